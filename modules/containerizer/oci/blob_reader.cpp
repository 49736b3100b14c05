#include "modules/containerizer/oci/blob_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keel::modules::oci {
namespace {

std::string Hex(const unsigned char* bytes, size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string Final(crypto_hash_sha256_state* state) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(state, digest);
  return "sha256:" + Hex(digest, sizeof(digest));
}

void Update(crypto_hash_sha256_state* state, const char* data, size_t size) {
  crypto_hash_sha256_update(state, reinterpret_cast<const unsigned char*>(data), size);
}

bool StartsWith(const std::string& data, const char* magic, size_t size) {
  return data.size() >= size && std::memcmp(data.data(), magic, size) == 0;
}

}  // namespace

std::string Sha256Digest(const std::string& data) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  Update(&state, data.data(), data.size());
  return Final(&state);
}

Result<std::string> Sha256OfFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(ErrnoText(path));
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(ErrnoText("read " + path));
    if (n == 0) break;
    Update(&state, buffer, static_cast<size_t>(n));
  }
  return Final(&state);
}

bool ValidSha256Digest(const std::string& digest) {
  if (digest.size() != 7 + 64 || digest.compare(0, 7, "sha256:") != 0) return false;
  return digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

Result<std::unique_ptr<BlobReader>> BlobReader::Open(const std::string& path, std::string name) {
  if (sodium_init() < 0) return Status::Error("libsodium cannot start");
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(name + ": " + ErrnoText("cannot open " + path));
  std::unique_ptr<BlobReader> reader(new BlobReader(std::move(fd), std::move(name)));
  crypto_hash_sha256_init(&reader->stored_hash_);
  crypto_hash_sha256_init(&reader->plain_hash_);
  // Enough of the start to tell the compression.
  char head[6];
  size_t got = 0;
  while (got < sizeof(head)) {
    ssize_t n = reader->ReadRaw(head + got, sizeof(head) - got);
    if (n < 0) return reader->error_;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  reader->peeked_.assign(head, got);
  const std::string& start = reader->peeked_;
  if (StartsWith(start, "\x28\xb5\x2f\xfd", 4)) {
    return Status::Error(reader->name_ +
                         ": is zstd-compressed; only tar and tar+gzip are supported");
  }
  if (StartsWith(start,
                 "\xfd"
                 "7zXZ",
                 5) ||
      StartsWith(start, "BZh", 3)) {
    return Status::Error(reader->name_ +
                         ": is xz- or bzip2-compressed; only tar and tar+gzip are supported");
  }
  if (StartsWith(start, "\x1f\x8b", 2)) {
    reader->gzip_ = true;
    if (inflateInit2(&reader->zs_, 16 + MAX_WBITS) != Z_OK) {
      return Status::Error(reader->name_ + ": cannot start zlib");
    }
    reader->gzip_open_ = true;
  }
  return reader;
}

BlobReader::~BlobReader() {
  if (gzip_open_) inflateEnd(&zs_);
}

ssize_t BlobReader::Fail(const std::string& why) {
  if (error_.ok()) error_ = Status::Error(name_ + ": " + why);
  return -1;
}

ssize_t BlobReader::ReadRaw(char* out, size_t size) {
  if (!peeked_.empty()) {
    const size_t n = std::min(size, peeked_.size());
    std::memcpy(out, peeked_.data(), n);
    peeked_.erase(0, n);
    return static_cast<ssize_t>(n);
  }
  for (;;) {
    ssize_t n = ::read(fd_.get(), out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrnoText("read"));
    Update(&stored_hash_, out, static_cast<size_t>(n));
    stored_size_ += static_cast<uint64_t>(n);
    return n;
  }
}

ssize_t BlobReader::Read(char* out, size_t size) {
  if (!error_.ok()) return -1;
  if (size == 0) return 0;
  if (!gzip_) {
    ssize_t n = ReadRaw(out, size);
    if (n > 0) Update(&plain_hash_, out, static_cast<size_t>(n));
    return n;
  }
  bool input_ended = false;
  for (;;) {
    if (zs_.avail_in == 0 && !input_ended) {
      ssize_t n = ReadRaw(in_, sizeof(in_));
      if (n < 0) return -1;
      if (n == 0) {
        input_ended = true;
      } else {
        zs_.next_in = reinterpret_cast<Bytef*>(in_);
        zs_.avail_in = static_cast<uInt>(n);
      }
    }
    if (stream_ended_) {
      if (zs_.avail_in == 0) {
        if (input_ended) return 0;
        continue;
      }
      if (trailing_zeros_ || zs_.next_in[0] == 0) {
        // Padding after the last member, as tar writers leave it (gzip
        // ignores it too); anything else after it is garbage.
        trailing_zeros_ = true;
        for (uInt i = 0; i < zs_.avail_in; ++i) {
          if (zs_.next_in[i] != 0) return Fail("has data after its gzip stream");
        }
        zs_.avail_in = 0;
        continue;
      }
      // Another gzip member follows (as `cat a.gz b.gz` makes).
      if (inflateReset(&zs_) != Z_OK) return Fail("cannot restart zlib");
      stream_ended_ = false;
    }
    if (zs_.avail_in == 0 && input_ended) {
      return Fail("is truncated: the gzip stream ends before its end marker");
    }
    zs_.next_out = reinterpret_cast<Bytef*>(out);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(size, 1 << 30));
    const uInt before = zs_.avail_out;
    int ret = inflate(&zs_, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      stream_ended_ = true;
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return Fail(std::string("is not valid gzip: ") + (zs_.msg ? zs_.msg : "inflate failed"));
    }
    const size_t produced = before - zs_.avail_out;
    if (produced > 0) {
      Update(&plain_hash_, out, produced);
      return static_cast<ssize_t>(produced);
    }
  }
}

Status BlobReader::Drain() {
  char scratch[65536];
  for (;;) {
    ssize_t n = Read(scratch, sizeof(scratch));
    if (n < 0) return error_;
    if (n == 0) return Status::Ok();
  }
}

std::string BlobReader::stored_digest() { return Final(&stored_hash_); }
std::string BlobReader::uncompressed_digest() { return Final(&plain_hash_); }

}  // namespace keel::modules::oci
