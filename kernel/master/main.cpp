#include "kernel/master/master_daemon.hpp"

int main(int argc, char** argv) {
  return keel::runtime::DaemonMain(keel::master::MasterDaemonSpec(), argc, argv);
}
