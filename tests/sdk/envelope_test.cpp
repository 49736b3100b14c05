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
