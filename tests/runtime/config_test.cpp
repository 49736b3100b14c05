#include "kernel/runtime/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "keel/config/config.pb.h"
#include "kernel/runtime/flags.hpp"
#include "tests/support/subprocess.hpp"

namespace keel::runtime {
namespace {

using ::testing::HasSubstr;

constexpr const char* kDefaults =
    R"({"ip": "0.0.0.0", "port": 5050, "allocator": {"name": "drf", "parameters": {"a": 1}}})";

Result<CommandLine> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return ParseCommandLine(static_cast<int>(args.size()), args.data(), {"check_config"});
}

TEST(FlagsTest, MesosStyleFlags) {
  auto line = Parse({"--ip=127.0.0.1", "--work-dir", "/tmp/x", "--check-config", "word"});
  ASSERT_TRUE(line.ok()) << line.status().message();
  ASSERT_EQ(line->flags.size(), 3u);
  EXPECT_EQ(line->flags[0].name, "ip");
  EXPECT_EQ(line->flags[0].value, "127.0.0.1");
  EXPECT_EQ(line->flags[1].name, "work_dir");
  EXPECT_EQ(line->flags[1].value, "/tmp/x");
  EXPECT_EQ(line->flags[2].name, "check_config");
  EXPECT_EQ(line->flags[2].value, "true");
  EXPECT_EQ(line->words, std::vector<std::string>{"word"});
  auto negated = Parse({"--no-check-config"});
  ASSERT_TRUE(negated.ok());
  EXPECT_EQ(negated->flags[0].value, "false");
}

TEST(FlagsTest, FlagWithoutValueIsAnError) {
  auto line = Parse({"--work_dir"});
  ASSERT_FALSE(line.ok());
  EXPECT_THAT(line.status().message(), HasSubstr("--work_dir needs a value"));
  EXPECT_FALSE(Parse({"-x"}).ok());
}

TEST(ConfigTest, DefaultsFileDropInsAndFlagsInOrder) {
  test::TempDir dir;
  test::WriteFile(dir.path() + "/master.json", R"({"port": 6000, "work_dir": "/from/file"})");
  std::filesystem::create_directories(dir.path() + "/conf.d/master");
  test::WriteFile(dir.path() + "/conf.d/master/20-later.json", R"({"work_dir": "/from/20"})");
  test::WriteFile(dir.path() + "/conf.d/master/10-first.json",
                  R"({"work_dir": "/from/10", "hostname": "h10"})");
  // Not a .json: ignored.
  test::WriteFile(dir.path() + "/conf.d/master/README", "ignored");

  ConfigSources sources;
  sources.daemon = "master";
  sources.defaults_json = kDefaults;
  sources.config_path = dir.path() + "/master.json";
  sources.flags = {{"hostname", "from-flag", true}};
  config::MasterConfig c;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadConfig(sources, &c, &errors).ok()) << errors.at(0);
  EXPECT_EQ(c.ip(), "0.0.0.0");          // default
  EXPECT_EQ(c.port(), 6000u);            // file
  EXPECT_EQ(c.work_dir(), "/from/20");   // last drop-in in name order
  EXPECT_EQ(c.hostname(), "from-flag");  // flag beats everything
  EXPECT_EQ(c.allocator().name(), "drf");
}

TEST(ConfigTest, ModuleFieldIsReplacedWholeNotMerged) {
  test::TempDir dir;
  test::WriteFile(dir.path() + "/m.json", R"({"allocator": {"name": "binpack"}})");
  ConfigSources sources;
  sources.daemon = "master";
  sources.defaults_json = kDefaults;
  sources.config_path = dir.path() + "/m.json";
  config::MasterConfig c;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadConfig(sources, &c, &errors).ok());
  EXPECT_EQ(c.allocator().name(), "binpack");
  // drf's parameters must not leak into binpack's.
  EXPECT_EQ(c.allocator().parameters().fields_size(), 0);
}

TEST(ConfigTest, EveryBadSourceIsReportedWithItsName) {
  test::TempDir dir;
  test::WriteFile(dir.path() + "/master.json", R"({"prot": 5050})");
  std::filesystem::create_directories(dir.path() + "/conf.d/master");
  test::WriteFile(dir.path() + "/conf.d/master/10-bad.json", R"({"port": "many"})");
  ConfigSources sources;
  sources.daemon = "master";
  sources.defaults_json = kDefaults;
  sources.config_path = dir.path() + "/master.json";
  sources.flags = {{"colour", "red", true}, {"port", "-1", true}};
  config::MasterConfig c;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadConfig(sources, &c, &errors).ok());
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_THAT(errors[0], HasSubstr(dir.path() + "/master.json"));
  EXPECT_THAT(errors[0], HasSubstr("prot"));
  EXPECT_THAT(errors[1], HasSubstr("10-bad.json"));
  EXPECT_THAT(errors[1], HasSubstr("port"));
  EXPECT_THAT(errors[2], HasSubstr("unknown flag --colour"));
  EXPECT_THAT(errors[3], HasSubstr("flag --port=-1"));
}

TEST(ConfigTest, MissingConfigFileIsAnError) {
  ConfigSources sources;
  sources.daemon = "master";
  sources.defaults_json = kDefaults;
  sources.config_path = "/nonexistent/master.json";
  config::MasterConfig c;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadConfig(sources, &c, &errors).ok());
  EXPECT_THAT(errors.at(0), HasSubstr("/nonexistent/master.json: cannot open"));
}

TEST(ConfigTest, ModuleFlagsSetNames) {
  config::AgentConfig c;
  ASSERT_TRUE(ApplyFlag({"isolators", "cgroups/cpu,cgroups/mem", true}, &c).ok());
  ASSERT_EQ(c.isolators_size(), 2);
  EXPECT_EQ(c.isolators(1).name(), "cgroups/mem");
  ASSERT_TRUE(ApplyFlag({"module_path", "/a:/b", true}, &c).ok());
  EXPECT_EQ(c.module_path_size(), 2);
  ASSERT_TRUE(ApplyFlag({"containerizer", "oci", true}, &c).ok());
  EXPECT_EQ(c.containerizer().name(), "oci");
}

}  // namespace
}  // namespace keel::runtime
