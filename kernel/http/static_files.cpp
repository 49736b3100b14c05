#include "kernel/http/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernel/http/http_server.hpp"

namespace keel::http {

namespace {

namespace fs = std::filesystem;

std::string ContentType(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  // What a Mesos-style UI folder holds besides (assets/libs, assets/img).
  if (ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".map") return "application/json";
  if (ext == ".gif") return "image/gif";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".woff") return "font/woff";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".ttf") return "font/ttf";
  if (ext == ".eot") return "application/vnd.ms-fontobject";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

void ServeStaticFiles(Server& server, const std::string& prefix, const std::string& dir) {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(dir, ec);
  server.RoutePrefix("GET", prefix, [root, prefix](const Request& r, Responder responder) {
    std::string relative = r.path.substr(prefix.size());
    if (relative.empty() || relative.back() == '/') relative += "index.html";
    const fs::path wanted = root / fs::path(relative).relative_path();
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(wanted, ec);
    // Resolved, the file must still be inside the directory.
    auto [end, ignored] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
    if (ec || end != root.end()) {
      return responder.Respond(Response::Text(403, "outside the web UI: " + r.path + "\n"));
    }
    std::ifstream in(real, std::ios::binary);
    if (!in || fs::is_directory(real)) {
      return responder.Respond(Response::Text(404, "no such file: " + r.path + "\n"));
    }
    std::ostringstream body;
    body << in.rdbuf();
    Response response;
    response.headers.emplace_back("Content-Type", ContentType(real));
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.body = body.str();
    responder.Respond(std::move(response));
  });
}

}  // namespace keel::http
