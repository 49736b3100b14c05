#include "keel/parameters.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(ParametersTest, TypeNamesRoundTrip) {
  for (const char* name : {"string", "int", "double", "bool", "duration", "bytes", "list"}) {
    ParameterType type;
    ASSERT_TRUE(ParseParameterType(name, &type)) << name;
    EXPECT_STREQ(ParameterTypeName(type), name);
  }
  ParameterType type;
  EXPECT_FALSE(ParseParameterType("float", &type));
}

TEST(ParametersTest, DurationsInMesosUnits) {
  EXPECT_EQ(*ParseDuration("500ms"), 500ms);
  EXPECT_EQ(*ParseDuration("1s"), 1s);
  EXPECT_EQ(*ParseDuration("1.5secs"), 1500ms);
  EXPECT_EQ(*ParseDuration("2mins"), 2min);
  EXPECT_EQ(*ParseDuration("3hrs"), 3h);
  EXPECT_EQ(*ParseDuration("1days"), 24h);
  EXPECT_EQ(*ParseDuration("1weeks"), 168h);
  EXPECT_EQ(*ParseDuration("250us"), 250us);
  EXPECT_EQ(*ParseDuration("10ns"), 10ns);
}

TEST(ParametersTest, BadDurationsSayWhat) {
  for (const char* text : {"", "abc", "5", "-1s", "1x", "1.2.3s", "s"}) {
    auto d = ParseDuration(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_THAT(d.status().message(), HasSubstr("is not a duration"));
  }
}

TEST(ParametersTest, FormatDurationReadsBack) {
  for (auto d : {std::chrono::nanoseconds(1s), std::chrono::nanoseconds(500ms),
                 std::chrono::nanoseconds(1500ms), std::chrono::nanoseconds(2min),
                 std::chrono::nanoseconds(7ns)}) {
    auto back = ParseDuration(FormatDuration(d));
    ASSERT_TRUE(back.ok()) << FormatDuration(d);
    EXPECT_EQ(*back, d);
  }
}

TEST(ParametersTest, BytesAreBinaryMultiples) {
  EXPECT_EQ(*ParseBytes("512MB"), 512ull << 20);
  EXPECT_EQ(*ParseBytes("1GB"), 1ull << 30);
  EXPECT_EQ(*ParseBytes("64KB"), 64ull << 10);
  EXPECT_EQ(*ParseBytes("100B"), 100u);
  EXPECT_EQ(*ParseBytes("4096"), 4096u);
  EXPECT_EQ(*ParseBytes("1.5KB"), 1536u);
  for (const char* text : {"", "MB", "-1MB", "12XB", "1.5"}) {
    auto b = ParseBytes(text);
    ASSERT_FALSE(b.ok()) << text;
    EXPECT_THAT(b.status().message(), HasSubstr("is not a byte count"));
  }
}

TEST(ParametersTest, TypedGetters) {
  Parameters p;
  p.Set("name", std::string("x"));
  p.Set("count", int64_t{3});
  p.Set("interval", std::chrono::nanoseconds(1s));
  p.Set("names", std::vector<std::string>{"a"});
  EXPECT_TRUE(p.Has("name"));
  EXPECT_FALSE(p.Has("other"));
  EXPECT_EQ(p.GetString("name"), "x");
  EXPECT_EQ(p.GetInt("count"), 3);
  EXPECT_EQ(p.GetDuration("interval"), 1s);
  EXPECT_EQ(p.GetList("names").size(), 1u);
  EXPECT_THROW(p.GetInt("name"), std::bad_variant_access);
  try {
    p.GetBool("missing");
    FAIL() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing"));
  }
}

}  // namespace
}  // namespace keel
