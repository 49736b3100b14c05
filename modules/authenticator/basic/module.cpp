// Registration of `basic`: the credentials file's path in, authenticator out.
#include "modules/authenticator/basic/basic_authenticator.hpp"

namespace keel::modules {

class BasicAuthenticatorModule : public BasicAuthenticator {
 public:
  explicit BasicAuthenticatorModule(ModuleContext& context)
      : BasicAuthenticator(context.parameters().GetString("credentials")) {
    size_t n = principal_count();
    context.Log(LogLevel::kInfo, std::to_string(n) + (n == 1 ? " principal" : " principals") +
                                     " from " + context.parameters().GetString("credentials"));
  }
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kAuthenticator, "basic", "0.1.0",
                                "HTTP Basic and agent basic credentials checked against a Mesos "
                                "credentials file",
                                keel::modules::BasicAuthenticatorModule));
