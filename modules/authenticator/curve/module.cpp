// Registration of `curve`: manifest parameters in, authenticator out. A file
// that is missing or wrong makes the factory throw, which the loader reports
// with the module's name, and the daemon refuses to start.
#include <stdexcept>

#include "modules/authenticator/curve/curve_authenticator.hpp"

namespace keel::modules {

namespace {

CurveKeys Load(ModuleContext& context) {
  const Parameters& p = context.parameters();
  auto keys = LoadCurveKeys({p.GetString("key_file"), p.GetString("allowed_keys_file"),
                             p.GetString("master_public_key")});
  if (!keys.ok()) throw std::runtime_error(keys.status().message());
  if (keys->master) {
    context.Log(keys->allowed.empty() ? LogLevel::kWarning : LogLevel::kInfo,
                "public key " + keys->own.public_key + "; " + std::to_string(keys->allowed.size()) +
                    " agent keys allowed");
  } else {
    context.Log(LogLevel::kInfo,
                "public key " + keys->own.public_key + "; master's key " + keys->server_key);
  }
  return std::move(keys).value();
}

}  // namespace

class CurveAuthenticatorModule : public CurveAuthenticator {
 public:
  explicit CurveAuthenticatorModule(ModuleContext& context) : CurveAuthenticator(Load(context)) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kAuthenticator, "curve", "0.1.0",
                                "CurveZMQ keys for the transport: encrypts links, admits agents "
                                "by public key",
                                keel::modules::CurveAuthenticatorModule));
