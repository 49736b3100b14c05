#include "kernel/master/task_validation.hpp"

#include "kernel/protocol/resource_conversion.hpp"

namespace keel::master {

std::optional<std::string> ValidateId(const std::string& what, const std::string& id) {
  if (id.empty()) return what + " is empty";
  if (id == "." || id == "..") return what + " '" + id + "' is not allowed";
  if (id.find('/') != std::string::npos || id.find('\0') != std::string::npos) {
    return what + " '" + id + "' contains '/' or NUL";
  }
  return std::nullopt;
}

std::optional<std::string> ValidateExecutor(const Framework& framework,
                                            const v1::ExecutorInfo& executor) {
  if (auto bad = ValidateId("Executor ID", executor.executor_id().value())) return bad;
  if (executor.has_framework_id() && executor.framework_id().value() != framework.id) {
    return "ExecutorInfo has an invalid FrameworkID (Actual: " + executor.framework_id().value() +
           " vs Expected: " + framework.id + ")";
  }
  if (executor.type() == v1::ExecutorInfo::DEFAULT) {
    if (executor.has_command())
      return "'ExecutorInfo.command' must not be set for 'DEFAULT' executor";
  } else if (!executor.has_command() || executor.command().value().empty()) {
    return "Executor " + executor.executor_id().value() + " has no command";
  }
  if (auto r = protocol::FromProto(executor.resources()); !r.ok()) {
    return "Executor's " + r.status().message();
  }
  return std::nullopt;
}

std::optional<std::string> ValidateTask(const Framework& framework, const Agent& agent,
                                        const v1::TaskInfo& task, const Resources& available,
                                        Resources* resources) {
  const std::string& id = task.task_id().value();
  if (auto bad = ValidateId("Task ID", id)) return bad;
  if (framework.tasks.count(id)) return "Task has duplicate ID: " + id;
  if (task.agent_id().value() != agent.id) {
    return "Task uses agent " + task.agent_id().value() + " but its offers are for agent " +
           agent.id;
  }
  if (task.has_executor()) {
    if (task.has_command()) {
      return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present";
    }
    if (auto bad = ValidateExecutor(framework, task.executor())) return bad;
  } else if (!task.has_command() && !task.has_container()) {
    return "Task has neither a command nor a container";
  }
  if (task.has_command() && !task.command().has_value() && task.command().shell()) {
    return "Task's command has no value";
  }
  auto used = protocol::FromProto(task.resources());
  if (!used.ok()) return "Task's " + used.status().message();
  if (used->empty()) return "Task uses no resources";
  if (!available.Contains(*used)) {
    return "Task uses more resources (" + used->ToString() + ") than its offers have left (" +
           available.ToString() + ")";
  }
  *resources = std::move(used).value();
  return std::nullopt;
}

}  // namespace keel::master
