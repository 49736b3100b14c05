// The loader against real module libraries built in this tree: one library
// per way a module can be broken, and the good one.
#include "kernel/runtime/module_loader.hpp"

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "keel/allocator.hpp"
#include "keel/isolator.hpp"
#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/module_context.hpp"
#include "tests/support/subprocess.hpp"

namespace keel::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

google::protobuf::Struct Params(const std::string& json) {
  google::protobuf::Struct s;
  EXPECT_TRUE(ParseJsonInto(json, "test", &s).ok()) << json;
  return s;
}

bool LibraryMapped(const std::string& file) {
  return test::ReadFile("/proc/self/maps").find(file) != std::string::npos;
}

class ModuleLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A build directory made under a permissive umask would trip the
    // writable-directory check this suite also tests.
    fs::permissions(KEEL_TEST_MODULE_DIR, fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove);
  }

  std::unique_ptr<ModuleLoader> MakeLoader(std::vector<std::string> path = {KEEL_TEST_MODULE_DIR}) {
    return std::make_unique<ModuleLoader>(
        ModuleRegistry(std::move(path)),
        [this](const Manifest& m, const Parameters& p) { return MakeModuleContext(host_, m, p); });
  }

  std::string LoadError(const std::string& name, const std::string& params = "{}",
                        ModuleKind kind = ModuleKind::kAllocator) {
    auto loader = MakeLoader();
    auto result = loader->Load<Allocator>(name, kind, Params(params), "allocator");
    EXPECT_FALSE(result.ok()) << name << " loaded but should not have";
    return result.ok() ? "" : result.status().message();
  }

  ModuleHost host_;
};

TEST_F(ModuleLoaderTest, GoodModuleLoadsWithParametersAndDefaults) {
  auto loader = MakeLoader();
  auto prepared = loader->Prepare("test_good", ModuleKind::kAllocator,
                                  Params(R"({"count": 3, "label": "hello"})"), "allocator");
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_EQ(prepared->manifest.version, "1.2.3");
  const Parameters& p = prepared->parameters;
  EXPECT_EQ(p.GetInt("count"), 3);
  EXPECT_EQ(p.GetString("label"), "hello");
  EXPECT_EQ(p.GetDuration("interval"), std::chrono::seconds(1));
  EXPECT_EQ(p.GetBytes("budget"), 64u * 1024 * 1024);
  EXPECT_DOUBLE_EQ(p.GetDouble("ratio"), 0.5);
  EXPECT_TRUE(p.GetBool("enabled"));
  EXPECT_EQ(p.GetList("names"), (std::vector<std::string>{"a", "b"}));

  auto allocator =
      loader->Load<Allocator>("test_good", ModuleKind::kAllocator,
                              Params(R"({"count": 3, "label": "hello"})"), "allocator");
  ASSERT_TRUE(allocator.ok()) << allocator.status().message();
  auto allocations = (*allocator)->Allocate();
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].framework, "hello");
}

TEST_F(ModuleLoaderTest, SecondModuleOfALibraryLoadsFromTheSameLibrary) {
  auto loader = MakeLoader();
  auto allocator =
      loader->Prepare("test_good", ModuleKind::kAllocator, Params(R"({"count":1})"), "allocator");
  auto isolator =
      loader->Prepare("test_good_isolator", ModuleKind::kIsolator, Params("{}"), "isolators[0]");
  ASSERT_TRUE(allocator.ok()) << allocator.status().message();
  ASSERT_TRUE(isolator.ok()) << isolator.status().message();
  EXPECT_EQ(allocator->library, isolator->library);
  auto instance = loader->Load<Isolator>("test_good_isolator", ModuleKind::kIsolator, Params("{}"),
                                         "isolators[0]");
  ASSERT_TRUE(instance.ok());
  EXPECT_TRUE((*instance)->Prepare("c1", ContainerConfig{}).ok());
}

TEST_F(ModuleLoaderTest, InstanceKeepsItsLibraryLoadedAfterTheLoaderIsGone) {
  auto loader = MakeLoader();
  auto allocator = loader->Load<Allocator>("test_good", ModuleKind::kAllocator,
                                           Params(R"({"count": 1, "label": "alive"})"), "a");
  ASSERT_TRUE(allocator.ok()) << allocator.status().message();
  std::shared_ptr<Allocator> instance = std::move(allocator).value();
  loader.reset();
  EXPECT_TRUE(LibraryMapped("libkeel-test-good.so"));
  // The module's code still runs: the library could not have been unloaded.
  EXPECT_EQ(instance->Allocate().at(0).framework, "alive");
  instance.reset();
  EXPECT_FALSE(LibraryMapped("libkeel-test-good.so"));
}

TEST_F(ModuleLoaderTest, MalformedManifestNamesTheFile) {
  std::string error = LoadError("test_malformed");
  EXPECT_THAT(error, HasSubstr("test_malformed.json"));
}

TEST_F(ModuleLoaderTest, MissingLibraryNamesManifestFieldAndPath) {
  std::string error = LoadError("test_missing_library");
  EXPECT_THAT(error, HasSubstr("test_missing_library.json: field 'library'"));
  EXPECT_THAT(error, HasSubstr("libkeel-test-missing.so does not exist"));
}

TEST_F(ModuleLoaderTest, GroupWritableDirectoryIsRefused) {
  test::TempDir dir;
  fs::copy_file(std::string(KEEL_TEST_MODULE_DIR) + "/libkeel-test-good.so",
                dir.path() + "/libkeel-test-good.so");
  fs::copy_file(std::string(KEEL_TEST_MODULE_DIR) + "/test_good.json",
                dir.path() + "/test_good.json");
  ::chmod(dir.path().c_str(), 0775);
  auto loader = MakeLoader({dir.path()});
  auto result =
      loader->Prepare("test_good", ModuleKind::kAllocator, Params(R"({"count":1})"), "allocator");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr(dir.path() + ": module directory"));
  EXPECT_THAT(result.status().message(), HasSubstr("writable by group or others (mode 0775)"));
  EXPECT_FALSE(LibraryMapped(dir.path()));
}

TEST_F(ModuleLoaderTest, LibraryWithoutDescriptorIsRefused) {
  std::string error = LoadError("test_no_descriptor");
  EXPECT_THAT(error, HasSubstr("libkeel-test-no-descriptor.so"));
  EXPECT_THAT(error, HasSubstr("no descriptor symbol 'keel_module_library'"));
}

TEST_F(ModuleLoaderTest, WrongAbiVersionNamesBothVersions) {
  std::string error = LoadError("test_wrong_abi");
  EXPECT_THAT(error, HasSubstr("libkeel-test-wrong-abi.so: field 'abi_version'"));
  EXPECT_THAT(error, HasSubstr("library has " + std::to_string(kModuleAbiVersion + 41)));
  EXPECT_THAT(error, HasSubstr("this daemon needs " + std::to_string(kModuleAbiVersion)));
}

TEST_F(ModuleLoaderTest, KindMismatchBetweenManifestAndLibrary) {
  std::string error = LoadError("test_kind_mismatch");
  EXPECT_THAT(error, HasSubstr("test_kind_mismatch.json: field 'kind'"));
  EXPECT_THAT(error, HasSubstr("manifest says allocator"));
  EXPECT_THAT(error, HasSubstr("says isolator"));
}

TEST_F(ModuleLoaderTest, NameMismatchBetweenManifestAndLibrary) {
  std::string error = LoadError("test_name_mismatch");
  EXPECT_THAT(error, HasSubstr("test_name_mismatch.json: field 'name'"));
  EXPECT_THAT(error, HasSubstr("'test_some_other_name'"));
}

TEST_F(ModuleLoaderTest, ConfigAskingForAnotherKindIsRefused) {
  std::string error = LoadError("test_good_isolator", "{}", ModuleKind::kAllocator);
  EXPECT_THAT(error, HasSubstr("allocator: module 'test_good_isolator' is isolator"));
}

TEST_F(ModuleLoaderTest, UnknownModuleNamesTheSearchedPath) {
  std::string error = LoadError("no_such_module");
  EXPECT_THAT(error, HasSubstr("no manifest no_such_module.json"));
  EXPECT_THAT(error, HasSubstr(KEEL_TEST_MODULE_DIR));
}

TEST_F(ModuleLoaderTest, UnknownParameterIsNamed) {
  std::string error = LoadError("test_good", R"({"count": 1, "colour": "red"})");
  EXPECT_THAT(error, HasSubstr("allocator.parameters.colour: unknown parameter"));
  EXPECT_THAT(error, HasSubstr("it accepts: label, interval"));
}

TEST_F(ModuleLoaderTest, MissingRequiredParameterIsNamed) {
  std::string error = LoadError("test_good", "{}");
  EXPECT_THAT(error, HasSubstr("allocator.parameters.count: required parameter"));
}

TEST_F(ModuleLoaderTest, MistypedParametersAreEachNamed) {
  std::string error =
      LoadError("test_good", R"({"count": "three", "interval": "soon", "budget": -1})");
  EXPECT_THAT(error, HasSubstr("allocator.parameters.count: int parameter: expected an integer"));
  EXPECT_THAT(error, HasSubstr("allocator.parameters.interval: duration parameter"));
  EXPECT_THAT(error, HasSubstr("allocator.parameters.budget: bytes parameter"));
}

TEST_F(ModuleLoaderTest, ThrowingFactoryIsReportedNotACrash) {
  std::string error = LoadError("test_throwing");
  EXPECT_THAT(error, HasSubstr("module 'test_throwing'"));
  EXPECT_THAT(error, HasSubstr("factory failed: cannot start: the test says so"));
}

TEST(ModuleRegistryTest, ListReadsManifestsAndReportsBrokenOnes) {
  ModuleRegistry registry({KEEL_TEST_MODULE_DIR});
  auto listing = registry.List();
  std::vector<std::string> names;
  for (const auto& m : listing.manifests) names.push_back(m.name);
  EXPECT_THAT(names, ::testing::Contains("test_good"));
  EXPECT_THAT(names, ::testing::Contains("test_good_isolator"));
  ASSERT_EQ(listing.errors.size(), 1u);
  EXPECT_THAT(listing.errors[0], HasSubstr("test_malformed.json"));
}

TEST(ManifestTest, FieldErrorsNameFileAndField) {
  test::TempDir dir;
  auto check = [&](const std::string& json, const std::string& expected) {
    std::string path = dir.path() + "/m.json";
    test::WriteFile(path, json);
    auto m = ReadManifest(path);
    ASSERT_FALSE(m.ok()) << json;
    EXPECT_THAT(m.status().message(), HasSubstr(path));
    EXPECT_THAT(m.status().message(), HasSubstr(expected)) << m.status().message();
  };
  const std::string base = R"("name":"x","library":"libx.so","version":"1","abi_version":1)";
  check("{" + base + R"(,"kind":"alocator"})", "field 'kind': 'alocator' is not a module kind");
  check(R"({"kind":"allocator","library":"libx.so","version":"1","abi_version":1})",
        "field 'name': missing");
  check("{" + base + R"(,"kind":"allocator","colour":"red"})", "colour");
  check("{" + base + R"(,"kind":"allocator","parameters":[{"name":"p","type":"float"}]})",
        "field 'parameters.p.type': 'float' is not a parameter type");
  check("{" + base +
            R"(,"kind":"allocator","parameters":[{"name":"p","type":"duration","default":"x"}]})",
        "field 'parameters.p.default'");
}

}  // namespace
}  // namespace keel::runtime
