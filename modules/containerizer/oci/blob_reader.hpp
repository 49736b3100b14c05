// BlobReader: reads an image blob (a layer tarball, plain or gzip) from a
// file, hashing as it goes: the digest of the bytes in the file (the OCI
// descriptor's digest) and of the uncompressed stream (the layer's diff_id).
// A truncated gzip stream, trailing garbage or a zstd layer are errors that
// name the file.
//
// Threading: one thread at a time; it blocks on the disk.
#pragma once

#include <sodium.h>
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "keel/status.hpp"
#include "modules/containerizer/oci/rooted_files.hpp"

namespace keel::modules::oci {

// "sha256:<hex>" of `data`.
std::string Sha256Digest(const std::string& data);
// "sha256:<hex>" of a whole file.
Result<std::string> Sha256OfFile(const std::string& path);
// True for "sha256:" and 64 lower-case hex digits.
bool ValidSha256Digest(const std::string& digest);

class BlobReader {
 public:
  // `name` is how errors name the blob ("layer 2 (blobs/sha256/ab12...)").
  static Result<std::unique_ptr<BlobReader>> Open(const std::string& path, std::string name);
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  // Up to `size` uncompressed bytes; 0 at the end. -1 on an error (error()).
  ssize_t Read(char* out, size_t size);
  // Reads whatever is left (the tar reader stops at its end marker) so the
  // digests cover the whole blob.
  Status Drain();

  bool compressed() const { return gzip_; }
  uint64_t stored_size() const { return stored_size_; }
  // REQUIRES: Drain() succeeded.
  std::string stored_digest();
  std::string uncompressed_digest();
  const Status& error() const { return error_; }
  const std::string& name() const { return name_; }

 private:
  BlobReader(Fd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  ssize_t ReadRaw(char* out, size_t size);
  ssize_t Fail(const std::string& why);

  Fd fd_;
  std::string name_;
  bool gzip_ = false;
  bool gzip_open_ = false;  // inflateInit2 done, not yet ended
  bool stream_ended_ = false;
  bool trailing_zeros_ = false;  // after the last gzip member
  z_stream zs_{};
  char in_[65536];
  crypto_hash_sha256_state stored_hash_{};
  crypto_hash_sha256_state plain_hash_{};
  uint64_t stored_size_ = 0;
  std::string peeked_;  // the first bytes, read to tell gzip from tar
  Status error_;
};

}  // namespace keel::modules::oci
