// One isolator of the conformance suite, by its module name, loaded from the
// build's module directory by the kernel's module loader with its
// manifest's default parameters, as an agent loads it. The test's thread
// plays the agent's core strand: RunPosted() runs what the isolator posted
// (ModuleContext::Post).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "keel/isolator.hpp"

namespace keel::test {

// Every isolator the suite runs against. Add a module's name here to hold
// it to the suite.
std::vector<std::string> AllIsolators();

// gtest parameter names: "cgroups/mem" -> "cgroups_mem".
std::string IsolatorTestName(const std::string& isolator);

class IsolatorUnderTest {
 public:
  // Throws std::runtime_error with the loader's message when the module
  // does not load.
  explicit IsolatorUnderTest(const std::string& name);
  // Runs what is still posted, then destroys the isolator (and with it the
  // last reference to its library).
  ~IsolatorUnderTest();
  IsolatorUnderTest(const IsolatorUnderTest&) = delete;
  IsolatorUnderTest& operator=(const IsolatorUnderTest&) = delete;

  Isolator* operator->() { return isolator_.get(); }
  // Runs the work the isolator posted to its strand so far.
  void RunPosted();

 private:
  boost::asio::io_context io_;
  std::shared_ptr<Isolator> isolator_;
};

}  // namespace keel::test
