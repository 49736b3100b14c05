#include "kernel/agent/sandbox_files.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "kernel/http/http_server.hpp"
#include "kernel/runtime/transport_status.hpp"

namespace keel::agent {

namespace fs = std::filesystem;

namespace {

// The master's web UI, served from another origin (the master's port),
// reads task sandboxes here directly, as Mesos's UI does.
http::Response ReadableAnywhere(http::Response response) {
  response.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return response;
}

// Per request: the file is read on the agent's thread, so a big read would
// stall it; clients page through with offset (as Mesos's do).
constexpr size_t kMaxReadBytes = 1 << 20;

struct Resolved {
  int status = 200;  // or the error's
  std::string error;
  fs::path path;
};

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : path + "/") {
    if (c == '/') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return parts;
}

Resolved Refuse(int status, std::string why) {
  Resolved r;
  r.status = status;
  r.error = std::move(why);
  return r;
}

Resolved Resolve(const SandboxLookup& lookup, const std::string& virtual_path) {
  auto parts = Split(virtual_path);
  if (parts.size() < 6 || parts[0] != "frameworks" || parts[2] != "executors" ||
      parts[4] != "runs" || parts[5] != "latest") {
    return Refuse(404, "'" + virtual_path +
                           "' is not a sandbox path (/frameworks/F/executors/T/runs/latest/...)");
  }
  for (const auto& p : parts) {
    if (p == "..") return Refuse(403, "'" + virtual_path + "': '..' is not allowed");
  }
  auto sandbox = lookup(parts[1], parts[3]);
  if (!sandbox) {
    return Refuse(404, "no sandbox for task " + parts[3] + " of framework " + parts[1]);
  }
  fs::path path = *sandbox;
  for (size_t i = 6; i < parts.size(); ++i) path /= parts[i];
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec) return Refuse(404, "'" + virtual_path + "' does not exist");
  // A symlink inside the sandbox may point anywhere: judge where it lands.
  const fs::path root = fs::canonical(*sandbox, ec);
  const auto rel = real.lexically_relative(root);
  if (ec || rel.empty() || *rel.begin() == "..") {
    return Refuse(403, "'" + virtual_path + "' leads out of the sandbox");
  }
  Resolved ok;
  ok.path = real;
  return ok;
}

std::string ModeString(mode_t mode) {
  std::string s = S_ISDIR(mode) ? "d" : S_ISLNK(mode) ? "l" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (1 << (8 - i))) ? rwx[i] : '-';
  return s;
}

void Fail(http::Responder& responder, int status, const std::string& why) {
  responder.Respond(ReadableAnywhere(http::Response::Text(status, why)));
}

}  // namespace

void RouteSandboxFiles(http::Server& server, SandboxLookup lookup) {
  auto read = [lookup](const http::Request& request, http::Responder responder) {
    auto path = request.query.find("path");
    if (path == request.query.end()) return Fail(responder, 400, "Expecting 'path' to be present");
    int64_t offset = 0;
    std::optional<size_t> length;
    try {
      if (auto o = request.query.find("offset"); o != request.query.end()) {
        offset = std::stoll(o->second);
      }
      if (auto l = request.query.find("length"); l != request.query.end()) {
        length = std::stoull(l->second);
      }
    } catch (const std::exception&) {
      return Fail(responder, 400, "'offset' and 'length' must be integers");
    }
    Resolved r = Resolve(lookup, path->second);
    if (r.status != 200) return Fail(responder, r.status, r.error);
    if (fs::is_directory(r.path))
      return Fail(responder, 400, "'" + path->second + "' is a directory");
    std::ifstream in(r.path, std::ios::binary);
    if (!in) return Fail(responder, 404, "'" + path->second + "' cannot be opened");
    in.seekg(0, std::ios::end);
    const int64_t size = in.tellg();
    google::protobuf::Struct body;
    auto& f = *body.mutable_fields();
    // Mesos: offset -1 asks for the file's size only.
    if (offset < 0) {
      f["data"].set_string_value("");
      f["offset"].set_number_value(static_cast<double>(size));
    } else {
      const int64_t start = std::min(offset, size);
      const size_t want = std::min<size_t>(length.value_or(kMaxReadBytes), kMaxReadBytes);
      std::string data(std::min<size_t>(want, static_cast<size_t>(size - start)), '\0');
      in.seekg(start);
      in.read(data.data(), static_cast<std::streamsize>(data.size()));
      f["data"].set_string_value(data);
      f["offset"].set_number_value(static_cast<double>(start));
    }
    responder.Respond(ReadableAnywhere(http::Response::Json(200, runtime::ToJson(body))));
  };
  auto browse = [lookup](const http::Request& request, http::Responder responder) {
    auto path = request.query.find("path");
    if (path == request.query.end()) return Fail(responder, 400, "Expecting 'path' to be present");
    Resolved r = Resolve(lookup, path->second);
    if (r.status != 200) return Fail(responder, r.status, r.error);
    if (!fs::is_directory(r.path)) return Fail(responder, 400, "'" + path->second + "' is a file");
    google::protobuf::ListValue list;
    std::error_code ec;
    std::string base = path->second;
    while (!base.empty() && base.back() == '/') base.pop_back();
    for (const auto& entry : fs::directory_iterator(r.path, ec)) {
      struct stat st {};
      if (::lstat(entry.path().c_str(), &st) != 0) continue;
      auto& e = *list.add_values()->mutable_struct_value()->mutable_fields();
      e["path"].set_string_value(base + "/" + entry.path().filename().string());
      e["size"].set_number_value(static_cast<double>(st.st_size));
      e["mtime"].set_number_value(static_cast<double>(st.st_mtime));
      e["mode"].set_string_value(ModeString(st.st_mode));
      e["nlink"].set_number_value(static_cast<double>(st.st_nlink));
      e["uid"].set_string_value(std::to_string(st.st_uid));
      e["gid"].set_string_value(std::to_string(st.st_gid));
    }
    // ListValue's JSON form is a bare array, as Mesos answers.
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(list, &json);
    responder.Respond(ReadableAnywhere(http::Response::Json(200, json)));
  };
  server.Route("GET", "/files/read", read);
  server.Route("GET", "/files/read.json", read);
  server.Route("GET", "/files/browse", browse);
  server.Route("GET", "/files/browse.json", browse);
}

}  // namespace keel::agent
