#include "sim/network/flow_classes.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "sim/network/classed_all_to_all.hpp"

namespace moesim::sim {

namespace {

// Beyond this many classes on one anchor GPU the anchor is not worth classing by.
constexpr std::size_t kMaxClassesPerAnchor = 64;

// The rate a path allows a flow alone: its tightest link relative to the share it carries.
double alone_rate(const FlowPath& path, const std::vector<BytesPerSecond>& capacity) {
  double rate = std::numeric_limits<double>::infinity();
  for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
    const double share = path.shares.empty() ? 1.0 : path.shares[hop];
    if (share > 0)
      rate = std::min(rate, capacity[static_cast<std::size_t>(path.links[hop])] / share);
  }
  return rate;
}

// Latency is not part of the key: a same-rail and a cross-rail route differ by two switch hops
// (under a microsecond), and splitting on it would keep every GPU's NIC its own constraint.
struct ClassKey {
  Bytes bytes;
  double alone;
  // Bits, not ==: the same for the keys met here (bytes > 0 and finite, rates alone >= 0, so no
  // -0.0 and no NaN), in integer compares instead of floating ones with their NaN branches.
  bool operator==(const ClassKey& other) const {
    return std::bit_cast<std::uint64_t>(bytes) == std::bit_cast<std::uint64_t>(other.bytes) &&
           std::bit_cast<std::uint64_t>(alone) == std::bit_cast<std::uint64_t>(other.alone);
  }
};

// Class ids per pair (row-major, kNoPairClass where no bytes) with every pair anchored at one
// end: its destination (`by_destination`) or its source. Ids are numbered in the order their first
// pair appears row-major, the order classify_pairs gives its classes. Beyond kMaxClassesPerAnchor
// on one anchor the anchoring fails and stops (a combine's destinations each see every source's
// own bytes).
class Anchoring {
 public:
  // `budget`: the most classes worth finding; more also fail the anchoring.
  Anchoring(std::size_t gpus, bool by_destination, std::uint32_t budget)
      : by_destination_(by_destination),
        budget_(budget),
        gpus_(gpus),
        seen_(std::make_unique_for_overwrite<Seen[]>(gpus * kMaxClassesPerAnchor)),
        seen_count_(gpus, 0),
        last_(gpus, Seen{ClassKey{-1.0, 0.0}, kNoPairClass}) {}

  void add(std::size_t source, std::size_t destination, std::size_t pair, const ClassKey& key) {
    if (failed_) return;
    const std::size_t anchor = by_destination_ ? destination : source;
    // Neighbours in a scale-up domain send alike, so the class the anchor's last pair fell in
    // is the likely one (no pair has -1 bytes, so an anchor's first pair always searches).
    if (!(last_[anchor].key == key)) search(anchor, key);
    if (!failed_) ids_[pair] = last_[anchor].id;
  }

  // A whole row under the source anchor: one anchor, so its last class stays in registers and a
  // pair costs a compare and a store (the generic add was 38 instructions a pair, callgrind).
  void add_source_row(std::size_t source, const std::vector<Bytes>& row, const double* alone) {
    std::uint32_t* ids = ids_.data() + source * gpus_;
    Seen last = last_[source];
    for (std::size_t d = 0; d < gpus_; ++d) {
      if (d == source || !(row[d] > 0)) continue;
      const ClassKey key{row[d], alone[d]};
      if (!(last.key == key)) {
        search(source, key);
        if (failed_) return;
        last = last_[source];
      }
      ids[d] = last.id;
    }
  }

  // Ids grow a row at a time: an anchoring that gives up early never fills the whole matrix.
  void begin_row(std::size_t source) {
    if (ids_.capacity() == 0) ids_.reserve(gpus_ * gpus_);
    ids_.resize((source + 1) * gpus_, kNoPairClass);
  }
  // Row `source` falls in the classes of the row before it: ids copied but for the pair into the
  // previous source (see anchor_pairs).
  void repeat_row(std::size_t source) {
    std::copy_n(ids_.begin() + static_cast<std::ptrdiff_t>((source - 1) * gpus_), gpus_,
                ids_.begin() + static_cast<std::ptrdiff_t>(source * gpus_));
    ids_[source * gpus_ + source] = kNoPairClass;
    ids_[source * gpus_ + source - 1] = kNoPairClass;
  }
  bool by_destination() const { return by_destination_; }
  bool failed() const { return failed_; }
  std::uint32_t classes() const { return classes_; }
  std::vector<std::uint32_t>& ids() {
    ids_.resize(gpus_ * gpus_, kNoPairClass);
    return ids_;
  }

 private:
  struct Seen {
    ClassKey key;
    std::uint32_t id;
  };

  // Points the anchor's last class at the key's, opening a class for a new key.
  void search(std::size_t anchor, const ClassKey& key) {
    Seen* seen = &seen_[anchor * kMaxClassesPerAnchor];
    std::uint32_t& count = seen_count_[anchor];
    std::uint32_t at = 0;
    while (at < count && !(seen[at].key == key)) ++at;
    if (at == count) {
      if (count == kMaxClassesPerAnchor || classes_ == budget_) {
        failed_ = true;
        return;
      }
      seen[count++] = Seen{key, classes_++};
    }
    last_[anchor] = seen[at];
  }

  bool by_destination_;
  std::uint32_t budget_;
  std::size_t gpus_;
  std::vector<std::uint32_t> ids_;  // by pair, row-major
  std::unique_ptr<Seen[]> seen_;    // kMaxClassesPerAnchor slots per anchor, filled in order
  std::vector<std::uint32_t> seen_count_;
  std::vector<Seen> last_;  // by anchor: the class its last pair fell in
  std::uint32_t classes_ = 0;
  bool failed_ = false;
};

// Rows of an all-to-all's matrix checked as validate_byte_matrix would, each just before it is
// first read (it is then in cache), so that checking costs no pass of its own over the matrix.
class CheckedRows {
 public:
  explicit CheckedRows(const ByteMatrix& bytes) : bytes_(bytes) {}
  const std::vector<Bytes>& operator[](std::size_t row) {
    for (; checked_ <= row; ++checked_)
      if (!repeats_checked_row(checked_)) validate_byte_row(bytes_, checked_, bytes_.size(), kName);
    return bytes_[row];
  }
  const ByteMatrix& matrix() const { return bytes_; }

  void check_all() {
    if (!bytes_.empty()) (*this)[bytes_.size() - 1];
  }

 private:
  // A row with the bits of the checked row before it, but for its entries at columns row - 1 and
  // row, which are themselves good, is good: a domain's rows cost a memcmp, not a check each.
  bool repeats_checked_row(std::size_t row) const {
    const std::size_t columns = bytes_.size();
    if (row == 0 || bytes_[row].size() != columns) return false;
    const double* here = bytes_[row].data();
    const double* before = bytes_[row - 1].data();
    const auto good = [](double value) {
      return value >= 0 && value < std::numeric_limits<double>::infinity();
    };
    return good(here[row - 1]) && good(here[row]) &&
           std::memcmp(here, before, (row - 1) * sizeof(double)) == 0 &&
           std::memcmp(here + row + 1, before + row + 1, (columns - row - 1) * sizeof(double)) == 0;
  }

  inline static const std::string kName = "all-to-all bytes";
  const ByteMatrix& bytes_;
  std::size_t checked_ = 0;
};

// Whether row s holds the bits of row s - 1, in bytes and in rates alone, outside columns s - 1
// and s. Every GPU of a scale-up domain sends the same row, so most rows do; memcmp reads them
// at a fraction of the cost of classing them. Bits equal means keys equal (a false "no", say
// -0.0 against 0.0, only takes the long way).
bool repeats_previous_row(const ByteMatrix& bytes, const std::vector<double>& alone,
                          std::size_t s) {
  const std::size_t gpus = bytes.size();
  const auto same = [&](const double* row, const double* previous) {
    return std::memcmp(row, previous, (s - 1) * sizeof(double)) == 0 &&
           std::memcmp(row + s + 1, previous + s + 1, (gpus - s - 1) * sizeof(double)) == 0;
  };
  return same(bytes[s].data(), bytes[s - 1].data()) &&
         same(alone.data() + s * gpus, alone.data() + (s - 1) * gpus);
}

// Reads the matrix row by row (along its rows: cache-friendly) until the anchoring fails. Anchored
// at destinations, a row that repeats the one before (same key for every pair (s, d) as for
// (s - 1, d)) puts each pair in the class its neighbour's pair opened at the same anchor; only the
// pair into s - 1 is classed.
void anchor_pairs(CheckedRows& rows, std::size_t gpus, const std::vector<double>& alone,
                  Anchoring& anchoring) {
  for (std::size_t s = 0; s < gpus && !anchoring.failed(); ++s) {
    const std::vector<Bytes>& row = rows[s];
    anchoring.begin_row(s);
    if (anchoring.by_destination() && s > 0 && repeats_previous_row(rows.matrix(), alone, s)) {
      anchoring.repeat_row(s);
      if (row[s - 1] > 0)
        anchoring.add(s, s - 1, s * gpus + s - 1, {row[s - 1], alone[s * gpus + s - 1]});
      continue;
    }
    if (!anchoring.by_destination()) {
      anchoring.add_source_row(s, row, alone.data() + s * gpus);
      continue;
    }
    for (std::size_t d = 0; d < gpus; ++d)
      if (s != d && row[d] > 0)
        anchoring.add(s, d, s * gpus + d, ClassKey{row[d], alone[s * gpus + d]});
  }
}

// The class's path: every member's hops added link by link, in the order first met.
void sum_member_paths(FlowClass& flow_class, const PathLookup& path,
                      std::vector<std::int32_t>& position, std::vector<std::uint32_t>& stamp,
                      std::uint32_t mark) {
  FlowPath& summed = flow_class.path;
  for (const GpuPair& pair : flow_class.members) {
    const FlowPath& member = path(pair.source, pair.destination).path;
    for (std::size_t hop = 0; hop < member.links.size(); ++hop) {
      const double share = member.shares.empty() ? 1.0 : member.shares[hop];
      if (share <= 0) continue;
      const auto link = static_cast<std::size_t>(member.links[hop]);
      if (stamp[link] != mark) {
        stamp[link] = mark;
        position[link] = static_cast<std::int32_t>(summed.links.size());
        summed.links.push_back(member.links[hop]);
        summed.shares.push_back(0.0);
      }
      summed.shares[static_cast<std::size_t>(position[link])] += share;
    }
  }
}

}  // namespace

std::vector<double> alone_rates(std::size_t gpus, const PathLookup& path,
                                const std::vector<BytesPerSecond>& capacity) {
  std::vector<double> alone(gpus * gpus, 0.0);
  for (std::size_t s = 0; s < gpus; ++s)
    for (std::size_t d = 0; d < gpus; ++d)
      if (s != d)
        alone[s * gpus + d] =
            alone_rate(path(static_cast<int>(s), static_cast<int>(d)).path, capacity);
  return alone;
}

// The source anchor goes first: the destination anchor wins ties, so it is followed only while
// it has no more classes than the source's, which stops a combine's after a few rows.
PairPartition partition_pairs(const ByteMatrix& bytes, const std::vector<double>& alone) {
  const std::size_t gpus = bytes.size();
  CheckedRows rows(bytes);
  constexpr std::uint32_t kUnlimited = std::numeric_limits<std::uint32_t>::max();
  Anchoring by_source(gpus, false, kUnlimited);
  anchor_pairs(rows, gpus, alone, by_source);
  Anchoring by_destination(gpus, true, by_source.failed() ? kUnlimited : by_source.classes());
  anchor_pairs(rows, gpus, alone, by_destination);
  rows.check_all();
  PairPartition partition;
  for (Anchoring* anchoring : {&by_destination, &by_source})
    if (!anchoring->failed()) {
      partition.class_of = std::move(anchoring->ids());
      partition.classes = anchoring->classes();
      return partition;
    }
  // Neither anchor classes well: one class per pair.
  partition.class_of.assign(gpus * gpus, kNoPairClass);
  for (std::size_t s = 0; s < gpus; ++s)
    for (std::size_t d = 0; d < gpus; ++d)
      if (s != d && bytes[s][d] > 0) partition.class_of[s * gpus + d] = partition.classes++;
  return partition;
}

std::vector<FlowClass> partition_classes(const PairPartition& partition, const ByteMatrix& bytes,
                                         const PathLookup& path, std::size_t link_count) {
  const std::size_t gpus = bytes.size();
  std::vector<FlowClass> classes(partition.classes);
  for (std::size_t pair = 0; pair < partition.class_of.size(); ++pair) {
    if (partition.class_of[pair] == kNoPairClass) continue;
    FlowClass& flow_class = classes[partition.class_of[pair]];
    const auto s = static_cast<int>(pair / gpus), d = static_cast<int>(pair % gpus);
    if (flow_class.members.empty()) flow_class.bytes = bytes[pair / gpus][pair % gpus];
    flow_class.members.push_back({s, d});
  }
  std::vector<std::int32_t> position(link_count, 0);
  std::vector<std::uint32_t> stamp(link_count, 0);
  for (std::size_t c = 0; c < classes.size(); ++c) {
    sum_member_paths(classes[c], path, position, stamp, static_cast<std::uint32_t>(c + 1));
    std::int64_t latency_ns = 0;
    for (const GpuPair& pair : classes[c].members)
      latency_ns += path(pair.source, pair.destination).latency.ns();
    const auto members = static_cast<std::int64_t>(classes[c].members.size());
    classes[c].latency = SimTime::from_ns((latency_ns + members / 2) / members);
  }
  return classes;
}

std::vector<FlowClass> classify_pairs(const ByteMatrix& bytes, const PathLookup& path,
                                      const std::vector<BytesPerSecond>& capacity) {
  validate_byte_matrix(bytes, bytes.size(), bytes.size(), "all-to-all bytes");
  const PairPartition partition = partition_pairs(bytes, alone_rates(bytes.size(), path, capacity));
  return partition_classes(partition, bytes, path, capacity.size());
}

AllToAllResult simulate_classed_all_to_all(const ByteMatrix& bytes, const PathLookup& path,
                                           const NetworkLinks& links,
                                           const AllToAllOptions& options) {
  return ClassedAllToAll().play(bytes, path, links, options);
}

}  // namespace moesim::sim
