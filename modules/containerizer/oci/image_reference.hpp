// ImageReference: an image's NAME:TAG as tasks and operators write it.
//
// NAME is a repository name, '/'-separated components of [a-z0-9._-]
// ("busybox", "library/busybox", "my-team/tools"); the first component may be
// a registry host ("registry.local:5000/tools"). TAG is
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, "latest" when left out. Docker Hub's
// spellings of one image are the same image: "docker.io/library/busybox",
// "library/busybox" and "busybox" all name "busybox". References by digest
// (NAME@sha256:...) are refused: the store keeps images by tag.
#pragma once

#include <string>
#include <string_view>

#include "keel/status.hpp"

namespace keel::modules::oci {

struct ImageReference {
  std::string name;  // normalised, without the tag
  std::string tag;

  std::string ToString() const { return name + ":" + tag; }
  friend bool operator==(const ImageReference&, const ImageReference&) = default;
};

Result<ImageReference> ParseImageReference(std::string_view text);

// The name as one directory name: '/' and ':' written as %2F and %3A.
std::string EscapeImageName(const std::string& name);
// EscapeImageName()'s inverse; false for text it could not have written.
bool UnescapeImageName(const std::string& escaped, std::string* name);

}  // namespace keel::modules::oci
