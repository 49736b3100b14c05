#include "keel/envelope.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "keel/wire/envelope.pb.h"

namespace keel {
namespace {

using ::testing::HasSubstr;

TEST(EnvelopeTest, RoundTripsTypeVersionAndBinaryPayload) {
  TransportMessage message{"keel.internal.Ping", 3, std::string("\0\x01\xff payload", 11)};
  auto decoded = DecodeEnvelope(EncodeEnvelope(message));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->type, message.type);
  EXPECT_EQ(decoded->version, 3u);
  EXPECT_EQ(decoded->payload, message.payload);
}

// Peers built with any protobuf library must read what the hand-written
// encoder writes, so it must write exactly protobuf's bytes.
TEST(EnvelopeTest, EncodesExactlyAsProtobufDoes) {
  for (const TransportMessage& m :
       {TransportMessage{"t", 1, ""}, TransportMessage{"keel.internal.Ping", 0, "x"},
        TransportMessage{"keel.test.Big", 300000, std::string(200000, '\xab')},
        TransportMessage{std::string(130, 'y'), 127, std::string(128, '\0')}}) {
    wire::Envelope e;
    e.set_format(kEnvelopeFormat);
    e.set_type(m.type);
    e.set_version(m.version);
    e.set_payload(m.payload);
    EXPECT_EQ(EncodeEnvelope(m), e.SerializeAsString()) << m.type;
    EXPECT_EQ(EnvelopeSize(m), e.ByteSizeLong());
  }
}

TEST(EnvelopeTest, RefusesGarbageOtherFormatsAndMissingType) {
  EXPECT_THAT(DecodeEnvelope("\xff\xff\xff\xff garbage").status().message(),
              HasSubstr("is not an envelope"));
  wire::Envelope future;
  future.set_format(kEnvelopeFormat + 1);
  future.set_type("x");
  EXPECT_THAT(DecodeEnvelope(future.SerializeAsString()).status().message(),
              HasSubstr("envelope format 2"));
  wire::Envelope untyped;
  untyped.set_format(kEnvelopeFormat);
  EXPECT_THAT(DecodeEnvelope(untyped.SerializeAsString()).status().message(), HasSubstr("no type"));
}

}  // namespace
}  // namespace keel
