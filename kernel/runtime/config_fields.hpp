// Reading the daemon-specific fields of a config that both daemons share the
// rules of: durations ("15s") and the hostname to advertise.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace keel::runtime {

// `text` as a duration; when it does not parse, or is zero or negative
// (zero too unless `zero_allowed`), appends an error naming `field` and
// returns `fallback`.
std::chrono::nanoseconds DurationField(const std::string& field, const std::string& text,
                                       std::chrono::nanoseconds fallback, bool zero_allowed,
                                       std::vector<std::string>* errors);

// `configured`, else the machine's name, else `ip`.
std::string HostnameOr(const std::string& configured, const std::string& ip);

// Seconds since the epoch, as Mesos stamps statuses and registrations.
double NowSeconds();

}  // namespace keel::runtime
