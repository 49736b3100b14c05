// The read-only calls of the v1 operator API, built from the master's state
// in Mesos's protobuf shapes (resources in protobuf form, times as
// TimeInfo): GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS, GET_STATE,
// GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS and GET_TASKS.
#pragma once

#include <map>
#include <string>

#include "keel/v1/master.pb.h"

namespace keel::master {

class Master;
struct Task;
struct Agent;
struct Framework;

// One record each, as GET_STATE and the operator events carry them.
void FillTask(const Task& task, v1::Task* out);
void FillAgent(const Master& master, const Agent& agent,
               v1::master::Response::GetAgents::Agent* out);
void FillFramework(const Master& master, const Framework& framework,
                   v1::master::Response::GetFrameworks::Framework* out);
// The whole state, as GET_STATE answers it.
void FillState(const Master& master, v1::master::Response::GetState* out);

// What the reads need besides the master: its effective config as flags
// ("name" -> value as text) and a metrics snapshot.
struct OperatorReadContext {
  const Master* master;
  std::map<std::string, std::string> flags;
  std::map<std::string, double> metrics;
};

// True when `type` is one of the reads; fills `response`.
bool AnswerRead(v1::master::Call::Type type, const OperatorReadContext& context,
                v1::master::Response* response);

}  // namespace keel::master
