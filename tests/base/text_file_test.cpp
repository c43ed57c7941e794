#include "base/text_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "base/config_error.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;

// A fresh, empty directory per test, removed afterwards.
class TextFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("moesim-text-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static void put(const std::string& file, const std::string& text) {
    std::ofstream(file, std::ios::binary) << text;
  }
  static std::string get(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The whole message of the ConfigError `read_text_file` throws, or "" if it returns.
  static std::string read_error(const std::string& file, std::uintmax_t max_bytes) {
    try {
      read_text_file(file, max_bytes);
    } catch (const ConfigError& error) {
      EXPECT_EQ(error.source(), file);
      return error.what();
    }
    return "";
  }
  std::size_t entries() const {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++count;
    return count;
  }

  fs::path dir_;
};

TEST_F(TextFile, ReadsAWholeFileByteForByte) {
  const std::string text = std::string("a,b\r\n1,2\n") + '\0' + "tail";
  put(path("t.csv"), text);
  EXPECT_EQ(read_text_file(path("t.csv")), text);
}

TEST_F(TextFile, ReadsAFileOfExactlyTheLimit) {
  put(path("t.json"), "{}\n");
  // 3 bytes with a 3-byte limit: the bound is inclusive.
  EXPECT_EQ(read_text_file(path("t.json"), 3), "{}\n");
}

TEST_F(TextFile, RefusesAFileOverTheLimit) {
  put(path("big.json"), "0123456789");
  // 10 bytes against a 4-byte limit.
  EXPECT_EQ(read_error(path("big.json"), 4),
            path("big.json") + ": /: file is 10 bytes; expected at most 4");
}

TEST_F(TextFile, RefusesAMissingFile) {
  EXPECT_EQ(read_error(path("absent.json"), kMaxTextFileBytes),
            path("absent.json") + ": /: cannot open file for reading");
}

TEST_F(TextFile, RefusesADirectory) {
  fs::create_directory(path("sub"));
  EXPECT_EQ(read_error(path("sub"), kMaxTextFileBytes),
            path("sub") + ": /: is a directory; expected a file");
}

TEST_F(TextFile, RefusesAFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  // Opening a FIFO with no writer would block forever; the refusal comes first.
  EXPECT_EQ(read_error(path("pipe"), kMaxTextFileBytes),
            path("pipe") + ": /: expected a regular file");
}

TEST_F(TextFile, RefusesDevZeroWithoutReadingIt) {
  // Issue 16: `run /dev/zero` read 4.2 GB. A character device is refused before any read.
  EXPECT_EQ(read_error("/dev/zero", kMaxTextFileBytes), "/dev/zero: /: expected a regular file");
}

TEST_F(TextFile, AFileLongerThanItsStatedSizeIsReadOnlyToTheLimit) {
  // /proc files are regular with a stated size of 0, yet /proc/self/status holds far more than
  // 16 bytes: the read stops one chunk past the limit and refuses the file.
  EXPECT_EQ(read_error("/proc/self/status", 16),
            "/proc/self/status: /: file grew past 16 bytes while read; expected at most 16");
}

TEST_F(TextFile, WriteCreatesTheFileWithItsContentAndNoTemporary) {
  write_text_file(path("out.json"), "{\"a\": 1}\n");
  EXPECT_EQ(get(path("out.json")), "{\"a\": 1}\n");
  // Only out.json remains: the out.json.tmp<pid> it was written through is renamed away.
  EXPECT_EQ(entries(), 1u);
  EXPECT_FALSE(fs::exists(path("out.json") + ".tmp" + std::to_string(::getpid())));
}

TEST_F(TextFile, WriteReplacesALongerExistingFileWhole) {
  put(path("out.csv"), "old content that is longer than the new one\n");
  write_text_file(path("out.csv"), "new\n");
  EXPECT_EQ(get(path("out.csv")), "new\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(TextFile, WriteIntoAMissingDirectoryThrowsNamingTheFile) {
  const std::string target = path("no/such/dir/out.json");
  try {
    write_text_file(target, "x");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(target), std::string::npos) << error.what();
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(TextFile, WriteToADeviceWritesInPlace) {
  // /dev/null is not a regular file: renaming over it would replace it, so it is written directly.
  EXPECT_NO_THROW(write_text_file("/dev/null", "discarded"));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST_F(TextFile, WriteToAFifoNoOneReadsThrowsInsteadOfBlocking) {
  // Session 9 hunt: `check --junit FIFO` and `compare --csv FIFO` blocked in open() for ever.
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  try {
    write_text_file(path("pipe"), "x");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot write " + path("pipe") + ": it is a FIFO that no process reads");
  }
  EXPECT_TRUE(fs::is_fifo(path("pipe")));  // written in place or not at all: never replaced
}

TEST_F(TextFile, WriteToAFifoSomeoneReadsDeliversTheText) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = get(path("pipe")); });  // opens first or blocks until we do
  // The reader's open may come after our check: retry until it is there, as a shell pipe would.
  for (int attempt = 0; attempt < 500; ++attempt) {
    try {
      write_text_file(path("pipe"), "through the pipe\n");
      break;
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  reader.join();
  EXPECT_EQ(received, "through the pipe\n");
}

TEST_F(TextFile, AppendAddsToTheEnd) {
  append_text_file(path("summary.md"), "one\n");
  append_text_file(path("summary.md"), "two\n");
  EXPECT_EQ(get(path("summary.md")), "one\ntwo\n");
}

TEST_F(TextFile, WrittenTextReadsBackUnchanged) {
  const std::string text = "line 1\nline 2 \xc3\xa9\n";
  write_text_file(path("round.txt"), text);
  EXPECT_EQ(read_text_file(path("round.txt")), text);
}

TEST_F(TextFile, OutputThatIsAnInputIsRefusedThroughAnyPathSpelling) {
  // Issue 16: `trace convert t.mtrace -o t.mtrace` truncated its own input.
  put(path("t.mtrace"), "input");
  const std::string inputs[] = {path("t.mtrace")};
  const std::string other_spelling = (dir_ / "." / "t.mtrace").string();
  try {
    refuse_output_over_input(other_spelling, inputs);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              other_spelling + ": /: is the same file as the input " + path("t.mtrace") +
                  "; expected another output path (writing it would destroy the input)");
  }
  EXPECT_EQ(get(path("t.mtrace")), "input");
  // Another file, or one that does not exist yet, is fine.
  EXPECT_NO_THROW(refuse_output_over_input(path("new.mtrace"), inputs));
}

}  // namespace
}  // namespace moesim
