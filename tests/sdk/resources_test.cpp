#include "keel/resources.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keel {
namespace {

using ::testing::HasSubstr;

Resources R(const std::string& text) {
  auto r = Resources::Parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : Resources();
}

std::string ParseError(const std::string& text) {
  auto r = Resources::Parse(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->ToString() : "");
  return r.ok() ? "" : r.status().message();
}

TEST(ScalarTest, ArithmeticIsExactToThreeDecimals) {
  EXPECT_EQ(Scalar::FromDouble(0.1) + Scalar::FromDouble(0.2), Scalar::FromDouble(0.3));
  Scalar sum;
  for (int i = 0; i < 1000; ++i) sum += Scalar::FromDouble(0.001);
  EXPECT_EQ(sum, Scalar::FromDouble(1));
  EXPECT_EQ(Scalar::FromDouble(1.0004).millis(), 1000);
  EXPECT_EQ(Scalar::FromDouble(1.0005).millis(), 1001);
  EXPECT_EQ(Scalar::FromDouble(2).ToString(), "2");
  EXPECT_EQ(Scalar::FromDouble(0.5).ToString(), "0.5");
  EXPECT_EQ(Scalar::FromDouble(1.125).ToString(), "1.125");
  EXPECT_EQ(Scalar::FromDouble(-0.25).ToString(), "-0.25");
}

TEST(RangesTest, MergesOverlappingAndAdjacentIntervals) {
  Ranges r;
  r.Add(10, 20);
  r.Add(21, 30);
  r.Add(5, 12);
  r.Add(40, 50);
  EXPECT_EQ(r.ToString(), "[5-30, 40-50]");
  EXPECT_EQ(r.size(), 26u + 11u);
}

TEST(RangesTest, SubtractSplitsIntervals) {
  Ranges r;
  r.Add(31000, 32000);
  Ranges cut;
  cut.Add(31500, 31500);
  cut.Add(31990, 32010);
  r.Subtract(cut);
  EXPECT_EQ(r.ToString(), "[31000-31499, 31501-31989]");
  Ranges part;
  part.Add(31000, 31010);
  EXPECT_TRUE(r.Contains(part));
  part.Add(31500, 31500);
  EXPECT_FALSE(r.Contains(part));
}

TEST(RangesTest, FullRangeSizeSaturates) {
  Ranges r;
  r.Add(0, UINT64_MAX);
  EXPECT_EQ(r.size(), UINT64_MAX);
}

TEST(ResourcesTest, ParsesMesosSyntax) {
  Resources r = R("cpus:2;mem:1024;disk:4096;ports:[31000-32000,40000-40010];disks:{sda,sdb}");
  EXPECT_EQ(r.GetScalar("cpus"), Scalar::FromDouble(2));
  EXPECT_EQ(r.GetScalar("mem"), Scalar::FromDouble(1024));
  EXPECT_EQ(r.GetRanges("ports").ToString(), "[31000-32000, 40000-40010]");
  EXPECT_EQ(r.entries().size(), 5u);
  EXPECT_EQ(r.Names(), (std::set<std::string>{"cpus", "disk", "disks", "mem", "ports"}));
}

TEST(ResourcesTest, ToleratesWhitespaceAndTrailingSeparator) {
  EXPECT_EQ(R(" cpus : 1 ; mem: 32 ;"), R("cpus:1;mem:32"));
  EXPECT_TRUE(R("").empty());
}

TEST(ResourcesTest, RepeatedEntriesAddUp) {
  EXPECT_EQ(R("cpus:1;cpus:0.5").GetScalar("cpus"), Scalar::FromDouble(1.5));
  EXPECT_EQ(R("ports:[1-2];ports:[3-4]").GetRanges("ports").ToString(), "[1-4]");
}

TEST(ResourcesTest, RolesAreKeptApart) {
  Resources r = R("cpus:4;cpus(eng):2;mem(eng/ml):512");
  EXPECT_EQ(r.GetScalar("cpus"), Scalar::FromDouble(6));
  EXPECT_EQ(r.Unreserved(), R("cpus:4"));
  EXPECT_EQ(r.ReservedFor("eng"), R("cpus(eng):2"));
  EXPECT_EQ(r.ReservedFor("eng/ml").GetScalar("mem"), Scalar::FromDouble(512));
  // Reserved resources do not satisfy unreserved demand.
  EXPECT_FALSE(R("cpus(eng):8").Contains(R("cpus:1")));
}

TEST(ResourcesTest, TextFormRoundTrips) {
  for (const std::string text :
       {"cpus:2;mem:1024", "cpus(eng):0.125;ports:[1-10, 20-30]", "disks:{a,b,c};gpus:1"}) {
    Resources r = R(text);
    EXPECT_EQ(R(r.ToString()), r) << text << " -> " << r.ToString();
  }
  EXPECT_EQ(R("mem:1024;cpus:2").ToString(), "cpus:2;mem:1024");
}

TEST(ResourcesTest, AddSubtractContains) {
  Resources agent = R("cpus:4;mem:8192;ports:[31000-32000]");
  Resources task = R("cpus:0.5;mem:512;ports:[31000-31001]");
  EXPECT_TRUE(agent.Contains(task));
  Resources left = agent - task;
  EXPECT_EQ(left, R("cpus:3.5;mem:7680;ports:[31002-32000]"));
  EXPECT_EQ(left + task, agent);
  EXPECT_FALSE(left.Contains(task));
  EXPECT_TRUE(agent.Contains(Resources()));
  EXPECT_FALSE(Resources().Contains(task));
}

TEST(ResourcesTest, SubtractClampsAtZeroAndDropsEmptyEntries) {
  Resources r = R("cpus:1;mem:64") - R("cpus:2");
  EXPECT_EQ(r, R("mem:64"));
  EXPECT_EQ(r.GetScalar("cpus"), Scalar());
  EXPECT_TRUE((R("disks:{a}") - R("disks:{a,b}")).empty());
}

TEST(ResourcesTest, AddingAnotherTypeUnderOneNameIsRefused) {
  Resources r = R("ports:[1-2]");
  Resource scalar;
  scalar.name = "ports";
  scalar.scalar = Scalar::FromDouble(1);
  EXPECT_FALSE(r.Add(scalar).ok());
  EXPECT_EQ(r, R("ports:[1-2]"));
}

TEST(ResourcesTest, ScalarFactory) {
  EXPECT_EQ(Resources::Scalar("cpus", 1.5, "eng"), R("cpus(eng):1.5"));
}

TEST(ResourcesTest, ParseErrorsNameTheEntry) {
  EXPECT_THAT(ParseError("cpus:abc"), HasSubstr("resources: 'cpus:abc': 'abc' is not a number"));
  EXPECT_THAT(ParseError("cpus:2;mem"), HasSubstr("'mem': expected name:value"));
  EXPECT_THAT(ParseError("ports:[5-3]"), HasSubstr("range begin 5 is greater than end 3"));
  EXPECT_THAT(ParseError("ports:[5]"), HasSubstr("'5' is not a range"));
  EXPECT_THAT(ParseError("ports:[1-2"), HasSubstr("'ports:[1-2'"));
  EXPECT_THAT(ParseError("cpus:-1"), HasSubstr("negative"));
  EXPECT_THAT(ParseError("cpus:inf"), HasSubstr("cpus:inf"));
  EXPECT_THAT(ParseError("cpus:nan"), HasSubstr("cpus:nan"));
  EXPECT_THAT(ParseError(":1"), HasSubstr("empty resource name"));
  EXPECT_THAT(ParseError("cpus():1"), HasSubstr("not a valid role"));
  EXPECT_THAT(ParseError("cpus(/eng):1"), HasSubstr("'/eng' is not a valid role"));
  EXPECT_THAT(ParseError("cpus:1;cpus:[1-2]"), HasSubstr("two different types"));
  EXPECT_THAT(ParseError("cpus:"), HasSubstr("empty value"));
}

}  // namespace
}  // namespace keel
