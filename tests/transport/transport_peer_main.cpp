// keel-transport-peer: the far end of a transport link in a process of its
// own, so that tests can kill, freeze and restart it.
//   keel-transport-peer MODULE_DIR MODULE bind|connect ENDPOINT PARAMS_JSON
// Prints "ready ENDPOINT" once bound or dialling, then echoes every message
// back to its sender until killed.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/support/transport_side.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s MODULE_DIR MODULE bind|connect ENDPOINT PARAMS_JSON\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[3], endpoint = argv[4];
  keel::test::TransportSide side(argv[2], argv[1], argv[5]);
  side.recorder().on_message = [&side](const keel::PeerId& peer, keel::TransportMessage& m) {
    (void)side.transport().Send(peer, std::move(m));
  };
  auto result = side.OnCore([&]() -> keel::Result<std::string> {
    if (mode == "bind") return side.transport().Bind(endpoint);
    return side.transport().Connect(endpoint);
  });
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().message().c_str());
    return 1;
  }
  std::printf("ready %s\n", result->c_str());
  std::fflush(stdout);
  for (;;) ::pause();
}
