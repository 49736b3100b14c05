// What keel-bench-transport measures, for one way of moving messages
// (a transport module, or the bare libzmq loop it is compared with).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace keel::bench {

// Messages per second, one sender to one receiver over loopback TCP, for
// `count` messages of `payload` bytes, from the first send to the last
// arrival.
double BareThroughput(size_t count, size_t payload);
double ModuleThroughput(const std::string& module, const std::string& module_dir, size_t count,
                        size_t payload);

// Round trips (microseconds) of 64-byte messages sent at `rate` per second
// for `duration`, each echoed back by the receiver.
std::vector<double> BareRoundTrips(double rate, std::chrono::milliseconds duration);
std::vector<double> ModuleRoundTrips(const std::string& module, const std::string& module_dir,
                                     double rate, std::chrono::milliseconds duration);

}  // namespace keel::bench
