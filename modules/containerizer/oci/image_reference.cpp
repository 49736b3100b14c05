#include "modules/containerizer/oci/image_reference.hpp"

#include <vector>

namespace keel::modules::oci {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// A repository path component: starts and ends with [a-z0-9], [._-] inside.
bool ValidComponent(const std::string& c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsLowerAlnum(ch) && ch != '.' && ch != '_' && ch != '-') return false;
  }
  return true;
}

// A registry host, with an optional :port.
bool ValidHost(const std::string& h) {
  if (h.empty() || h.size() > 255) return false;
  const size_t colon = h.find(':');
  const std::string host = h.substr(0, colon);
  if (host.empty() || !IsAlnum(host.front()) || !IsAlnum(host.back())) return false;
  for (char ch : host) {
    if (!IsAlnum(ch) && ch != '.' && ch != '-') return false;
  }
  if (colon != std::string::npos) {
    const std::string port = h.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos) {
      return false;
    }
  }
  return true;
}

bool ValidTag(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  if (!IsAlnum(t.front()) && t.front() != '_') return false;
  for (char ch : t) {
    if (!IsAlnum(ch) && ch != '_' && ch != '.' && ch != '-') return false;
  }
  return true;
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == sep) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

}  // namespace

Result<ImageReference> ParseImageReference(std::string_view given) {
  const std::string text(given);
  auto invalid = [&](const std::string& why) {
    return Status::Error("image reference '" + text + "' is not valid: " + why);
  };
  if (text.empty()) return invalid("it is empty");
  if (text.find('@') != std::string::npos) {
    return invalid("references by digest are not supported; name the image by NAME:TAG");
  }
  ImageReference ref;
  const size_t slash = text.rfind('/');
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.name = text.substr(0, colon);
    ref.tag = text.substr(colon + 1);
    if (!ValidTag(ref.tag)) {
      return invalid("the tag '" + ref.tag + "' must be [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    }
  } else {
    ref.name = text;
    ref.tag = "latest";
  }
  std::vector<std::string> parts = Split(ref.name, '/');
  // A first component with '.' or ':' (or "localhost") is a registry host.
  size_t first = 0;
  if (parts.size() > 1 &&
      (parts[0].find_first_of(".:") != std::string::npos || parts[0] == "localhost")) {
    if (!ValidHost(parts[0])) return invalid("'" + parts[0] + "' is not a registry host");
    first = 1;
  }
  for (size_t i = first; i < parts.size(); ++i) {
    if (!ValidComponent(parts[i])) {
      return invalid("the name component '" + parts[i] +
                     "' must be lower-case letters and digits, with '.', '_' or '-' inside");
    }
  }
  // Docker Hub's spellings of an official image.
  for (const char* prefix : {"docker.io/", "index.docker.io/", "registry-1.docker.io/"}) {
    if (ref.name.rfind(prefix, 0) == 0) {
      ref.name = ref.name.substr(std::string(prefix).size());
      if (ref.name.find('/') == std::string::npos) return ref;
      break;
    }
  }
  if (ref.name.rfind("library/", 0) == 0 && ref.name.find('/', 8) == std::string::npos) {
    ref.name = ref.name.substr(8);
  }
  return ref;
}

std::string EscapeImageName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '/') {
      out += "%2F";
    } else if (c == ':') {
      out += "%3A";
    } else {
      out += c;
    }
  }
  return out;
}

bool UnescapeImageName(const std::string& escaped, std::string* name) {
  name->clear();
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '%') {
      *name += escaped[i];
      continue;
    }
    const std::string code = escaped.substr(i + 1, 2);
    if (code == "2F") {
      *name += '/';
    } else if (code == "3A") {
      *name += ':';
    } else {
      return false;
    }
    i += 2;
  }
  return !name->empty();
}

}  // namespace keel::modules::oci
