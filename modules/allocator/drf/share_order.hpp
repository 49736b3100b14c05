// ShareOrder: clients ordered by (share, name), lowest first, with O(log n)
// updates, so that an allocation step re-sorts only what a grant changed.
#pragma once

#include <set>
#include <string>
#include <unordered_map>

namespace keel::modules {

template <class T>
class ShareOrder {
 public:
  struct Entry {
    double share;
    const std::string* name;  // owned by the client; ties broken by name
    T* client;
  };

  // Inserts `client`, or moves it to its new share.
  void Set(T* client, const std::string* name, double share) {
    auto it = where_.find(client);
    if (it != where_.end()) {
      if (it->second->share == share) return;
      order_.erase(it->second);
    }
    where_[client] = order_.insert({share, name, client}).first;
  }
  bool empty() const { return order_.empty(); }
  auto begin() const { return order_.begin(); }
  auto end() const { return order_.end(); }

 private:
  struct Less {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.share != b.share) return a.share < b.share;
      return *a.name < *b.name;
    }
  };
  std::set<Entry, Less> order_;
  std::unordered_map<T*, typename std::set<Entry, Less>::iterator> where_;
};

}  // namespace keel::modules
