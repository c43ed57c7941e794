#include "sim/traces/npy_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

// A .npy image of format `major`: magic, version, header length (2 bytes for v1, 4 for v2/v3),
// then `header` padded with spaces and a newline so the data starts on a 64-byte boundary.
std::string npy_image(const std::string& header, const std::string& data, int major = 1) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::string padded = header;
  while ((preamble + padded.size() + 1) % 64 != 0) padded += ' ';
  padded += '\n';
  std::string image = "\x93NUMPY";
  image += static_cast<char>(major);
  image += '\0';
  for (std::size_t i = 0; i < preamble - 8; ++i)
    image += static_cast<char>((padded.size() >> (8 * i)) & 0xFF);
  return image + padded + data;
}

std::string dict(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::vector<std::byte> bytes_of(const std::string& text) {
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  return bytes;
}

NpyArray parse(const std::string& image) { return parse_npy(bytes_of(image), "ids.npy"); }

// "ids.npy: byte N: ..." of the TraceError parse_npy throws; "" when it parses.
std::string npy_parse_error(const std::string& image) {
  try {
    parse(image);
  } catch (const TraceError& error) {
    EXPECT_NE(std::string(error.what()).find("byte " + std::to_string(error.offset()) + ":"),
              std::string::npos);
    return error.what();
  }
  return "";
}

TEST(NpyReader, ParsesHeaderShapeAndDataOffset) {
  // The dict "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }" is 59 characters;
  // 10 + 59 + 1 newline = 70, padded to 128: the data starts at byte 128.
  const std::string data("\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00", 12);
  const NpyArray array = parse(npy_image(dict("<i2", "(2, 3)"), data));
  EXPECT_EQ(array.descr, "<i2");
  EXPECT_EQ(array.item_bytes, 2);
  EXPECT_TRUE(array.is_signed);
  EXPECT_EQ(array.shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(array.data_offset, 128u);
  EXPECT_EQ(array.elements(), 6u);  // 2 x 3
  EXPECT_EQ(array.at(0), 1);
  EXPECT_EQ(array.at(5), 6);
}

TEST(NpyReader, SignedElementsAreSignExtendedUnsignedAreNot) {
  // 0xFFFF is -1 as <i2 and 65535 as <u2; 0x80 is -128 as |i1 and 128 as |u1.
  EXPECT_EQ(parse(npy_image(dict("<i2", "(1,)"), std::string("\xff\xff", 2))).at(0), -1);
  EXPECT_EQ(parse(npy_image(dict("<u2", "(1,)"), std::string("\xff\xff", 2))).at(0), 65535);
  EXPECT_EQ(parse(npy_image(dict("|i1", "(1,)"), std::string("\x80", 1))).at(0), -128);
  EXPECT_EQ(parse(npy_image(dict("|u1", "(1,)"), std::string("\x80", 1))).at(0), 128);
  // 0xFFFFFFFE as <i4 is -2.
  EXPECT_EQ(parse(npy_image(dict("<i4", "(1,)"), std::string("\xfe\xff\xff\xff", 4))).at(0), -2);
}

TEST(NpyReader, UnsignedSixtyFourBitValuesAboveTheSignedRangeComeBackNegative) {
  // 2^63 + 5 does not fit an int64: the header documents it comes back negative, as 5 - 2^63.
  const std::string data("\x05\x00\x00\x00\x00\x00\x00\x80", 8);
  const NpyArray array = parse(npy_image(dict("<u8", "(1,)"), data));
  EXPECT_LT(array.at(0), 0);
  EXPECT_EQ(array.at(0), std::numeric_limits<std::int64_t>::min() + 5);
}

TEST(NpyReader, VersionTwoHeaderHasAFourByteLength) {
  // Preamble 12 bytes; 12 + 57 + 1 = 70, padded to 128. "{'descr': '<i8', ..., 'shape': (1,), }"
  const NpyArray array =
      parse(npy_image(dict("<i8", "(1,)"), std::string("\x2a\0\0\0\0\0\0\0", 8), 2));
  EXPECT_EQ(array.data_offset, 128u);
  EXPECT_EQ(array.at(0), 42);  // 0x2a
}

TEST(NpyReader, ScalarAndEmptyShapes) {
  // shape () is a scalar: the empty product is 1 element.
  const NpyArray scalar = parse(npy_image(dict("<i4", "()"), std::string("\x07\0\0\0", 4)));
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.elements(), 1u);
  EXPECT_EQ(scalar.at(0), 7);
  // shape (0, 2): no tokens, no data bytes.
  const NpyArray empty = parse(npy_image(dict("<i8", "(0, 2)"), ""));
  EXPECT_EQ(empty.elements(), 0u);
  EXPECT_TRUE(empty.data.empty());
}

TEST(NpyReader, KeysMayComeInAnyOrderWithEitherQuote) {
  const NpyArray array =
      parse(npy_image("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<u2\"}",
                      std::string("\x01\0\x02\0", 4)));
  EXPECT_EQ(array.descr, "<u2");
  EXPECT_EQ(array.elements(), 2u);
  EXPECT_EQ(array.at(1), 2);
}

TEST(NpyReader, TooShortFileIsRefusedAtByteZero) {
  EXPECT_EQ(npy_parse_error("\x93NUM"),
            "ids.npy: byte 0: expected a .npy preamble (10 bytes), but the file ends at byte 4");
}

TEST(NpyReader, WrongMagicIsRefusedAtByteZero) {
  std::string image = npy_image(dict("<i8", "(1,)"), std::string(8, '\0'));
  image[1] = 'X';
  EXPECT_EQ(npy_parse_error(image), "ids.npy: byte 0: expected the .npy magic \"\\x93NUMPY\"");
}

TEST(NpyReader, UnknownVersionIsNamedAtByteSix) {
  std::string image = npy_image(dict("<i8", "(1,)"), std::string(8, '\0'));
  image[6] = '\x04';
  EXPECT_EQ(npy_parse_error(image),
            "ids.npy: byte 6: expected .npy format version 1, 2 or 3, got 4");
}

TEST(NpyReader, HeaderLongerThanTheFileIsRefusedAtItsLength) {
  // The v1 length field (bytes 8-9) claims 0x1000 = 4096 header bytes; the file has 20 in all.
  std::string image = "\x93NUMPY\x01";
  image += std::string("\0\0\x10", 3);
  image += "{'descr':";
  image += 'x';
  EXPECT_EQ(npy_parse_error(image),
            "ids.npy: byte 8: expected a header of 4096 bytes, but the file ends at byte 20");
}

TEST(NpyReader, FortranOrderIsRefused) {
  const std::string header = "{'descr': '<i8', 'fortran_order': True, 'shape': (1,), }";
  // The header dict starts after the 10-byte v1 preamble.
  EXPECT_EQ(npy_parse_error(npy_image(header, std::string(8, '\0'))),
            "ids.npy: byte 10: expected fortran_order False (save with np.ascontiguousarray)");
}

TEST(NpyReader, UnknownKeyIsNamedAtItsOwnByte) {
  // "{'descr': '<i8', " is 17 characters: the key 'order' starts at 10 + 17 = 27.
  const std::string header = "{'descr': '<i8', 'order': False}";
  EXPECT_EQ(npy_parse_error(npy_image(header, "")),
            "ids.npy: byte 27: expected the key descr, fortran_order or shape, got 'order'");
}

TEST(NpyReader, MissingShapeIsRefused) {
  const std::string header = "{'descr': '<i8', 'fortran_order': False}";
  EXPECT_EQ(npy_parse_error(npy_image(header, "")),
            "ids.npy: byte 10: expected the header to give descr, fortran_order and shape");
}

TEST(NpyReader, MalformedShapeTupleNamesTheCharacter) {
  // "{'descr': '<i8', 'fortran_order': False, 'shape': (2 " is 53 characters: '3' at 10 + 53 = 63.
  EXPECT_EQ(npy_parse_error(npy_image(dict("<i8", "(2 3)"), "")),
            "ids.npy: byte 63: expected ',' or ')' in the shape tuple in the .npy header, got '3'");
}

TEST(NpyReader, OddWidthsAndMultiByteUnspecifiedOrderAreRefused) {
  // '|' (no byte order) is only meaningful for one-byte types; 3-byte integers do not exist.
  EXPECT_NE(npy_parse_error(npy_image(dict("|i2", "(1,)"), std::string(2, '\0'))).find("got '|i2'"),
            std::string::npos);
  EXPECT_NE(npy_parse_error(npy_image(dict("<i3", "(1,)"), std::string(3, '\0'))).find("got '<i3'"),
            std::string::npos);
}

TEST(NpyReader, TrailingBytesAfterTheDataAreRefusedWhereTheyStart) {
  // <i8 of shape (1,): data at 128 (as above), 8 bytes, so the extra byte sits at 136.
  EXPECT_EQ(npy_parse_error(npy_image(dict("<i8", "(1,)"), std::string(9, '\0'))),
            "ids.npy: byte 136: expected the end of the file, got 1 more bytes");
}

TEST(NpyReader, ShapeWhoseSizeOverflowsIsRefusedBeforeAllocating) {
  // 2^32 x 2^32 elements x 8 bytes is far beyond 2^64.
  EXPECT_EQ(npy_parse_error(npy_image(dict("<i8", "(4294967296, 4294967296)"), "")),
            "ids.npy: byte 10: expected an array shape whose size fits in 64 bits");
}

TEST(NpyReader, ReadNpyNamesTheFileItCannotRead) {
  const fs::path dir =
      fs::temp_directory_path() / ("moesim-npy-reader-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    read_npy((dir / "absent.npy").string());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.source(), (dir / "absent.npy").string());
  }
  // A good file reads like its bytes parse; errors name the path given.
  const std::string image = npy_image(dict("<i8", "(1,)"), std::string("\x03\0\0\0\0\0\0\0", 8));
  std::ofstream((dir / "ok.npy"), std::ios::binary) << image;
  EXPECT_EQ(read_npy((dir / "ok.npy").string()).at(0), 3);
  std::ofstream((dir / "bad.npy"), std::ios::binary) << image.substr(0, 5);
  try {
    read_npy((dir / "bad.npy").string());
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    EXPECT_EQ(error.source(), (dir / "bad.npy").string());
    EXPECT_EQ(error.offset(), 0u);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moesim::sim
