// Aligned text tables for keelctl's listings: a header, rows, columns
// padded to their widest cell and two spaces apart, so that both people and
// `awk` can read them (cells never hold spaces keelctl adds itself).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace keel::keelctl {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}

  // REQUIRES: as many cells as the header has.
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // The header, then the rows in the order added; the last column unpadded.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace keel::keelctl
