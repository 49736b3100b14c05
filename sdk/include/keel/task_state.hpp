// Facts about Mesos task states that schedulers, tools and daemons share.
#pragma once

#include "keel/v1/mesos.pb.h"

namespace keel {

// A state after which the task never runs again: FINISHED, FAILED, KILLED,
// ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR. (UNREACHABLE and UNKNOWN are
// not: the task may come back.)
bool IsTerminal(v1::TaskState state);

}  // namespace keel
