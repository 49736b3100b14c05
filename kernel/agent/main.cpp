#include "kernel/agent/agent_daemon.hpp"

int main(int argc, char** argv) {
  return keel::runtime::DaemonMain(keel::agent::AgentDaemonSpec(), argc, argv);
}
