// What frameworks read: events in Mesos's JSON, which protobuf's own parser
// reads back to the same message, with 64-bit integers as numbers.
#include "kernel/runtime/mesos_json.hpp"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "keel/v1/scheduler.pb.h"

namespace keel::runtime {
namespace {

using ::testing::HasSubstr;

v1::scheduler::Event SampleEvent() {
  v1::scheduler::Event event;
  event.set_type(v1::scheduler::Event::OFFERS);
  v1::Offer* offer = event.mutable_offers()->add_offers();
  offer->mutable_id()->set_value("o-\"1\"\n");
  offer->mutable_framework_id()->set_value("f");
  offer->mutable_agent_id()->set_value("a");
  offer->set_hostname("host");
  auto* ports = offer->add_resources();
  ports->set_name("ports");
  ports->set_type(v1::Value::RANGES);
  auto* range = ports->mutable_ranges()->add_range();
  range->set_begin(31000);
  range->set_end(18446744073709551615ull);
  auto* cpus = offer->add_resources();
  cpus->set_name("cpus");
  cpus->set_type(v1::Value::SCALAR);
  cpus->mutable_scalar()->set_value(0.1);
  offer->mutable_allocation_info()->set_role("eng/ml");
  return event;
}

TEST(MesosJsonTest, ReadsBackAsTheSameMessage) {
  for (auto event : {SampleEvent(), v1::scheduler::Event()}) {
    v1::scheduler::Event parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(MesosJson(event), &parsed).ok())
        << MesosJson(event);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(event, parsed))
        << MesosJson(event);
  }
  v1::TaskStatus status;
  status.mutable_task_id()->set_value("t");
  status.set_state(v1::TASK_RUNNING);
  status.set_uuid(std::string("\x00\xff\x10\x20\x30", 5));
  status.mutable_unreachable_time()->set_nanoseconds(-5);
  v1::TaskStatus parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(MesosJson(status), &parsed).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(status, parsed));
}

TEST(MesosJsonTest, PrintsIntegersAsNumbersAndEnumsByName) {
  const std::string json = MesosJson(SampleEvent());
  EXPECT_THAT(json, HasSubstr(R"("begin":31000,"end":18446744073709551615)"));
  EXPECT_THAT(json, HasSubstr(R"("type":"RANGES")"));
  EXPECT_THAT(json, HasSubstr(R"("scalar":{"value":0.1})"));
  EXPECT_THAT(json, HasSubstr(R"("value":"o-\"1\"\n")"));
  EXPECT_EQ(json.rfind(R"({"type":"OFFERS","offers":{"offers":[{"id":)", 0), 0u);
}

}  // namespace
}  // namespace keel::runtime
