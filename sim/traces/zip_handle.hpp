#pragma once
// An open libzip archive that discards itself (never writes back): the importers only read.
#include <zip.h>

#include <memory>

namespace moesim::sim {

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ZipHandle = std::unique_ptr<zip_t, ZipCloser>;

}  // namespace moesim::sim
