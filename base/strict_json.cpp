#include "base/strict_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/config_error.hpp"

namespace moesim {
namespace {

using Json = nlohmann::json;

// Builds the DOM itself so it can see every key as it arrives (nlohmann's own DOM parser keeps the
// last of two duplicate keys silently) and stop before nesting grows without bound.
class StrictSax : public nlohmann::json_sax<Json> {
 public:
  explicit StrictSax(ProblemList& problems) : problems_(problems) {}

  bool null() override { return add(Json(nullptr)); }
  bool boolean(bool value) override { return add(Json(value)); }
  bool number_integer(number_integer_t value) override { return add(Json(value)); }
  bool number_unsigned(number_unsigned_t value) override { return add(Json(value)); }
  bool number_float(number_float_t value, const string_t& text) override {
    if (!std::isfinite(value)) {
      problems_.add(pending_path(), fmt::format("number {} is out of range for a double", text));
      return false;
    }
    return add(Json(value));
  }
  bool string(string_t& value) override { return add(Json(std::move(value))); }
  bool binary(binary_t&) override { return add(Json(nullptr)); }

  bool start_object(std::size_t) override { return open(Json::object()); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_array() override { return close(); }

  bool key(string_t& name) override {
    Json& object = *stack_.back();
    const std::string path = json_pointer_child(paths_.back(), name);
    if (object.contains(name)) {
      problems_.add(path, "duplicate key (each field may appear once)");
      return false;
    }
    pending_key_ = name;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    problems_.add(fmt::format("byte {}", position == 0 ? 0 : position - 1),
                  syntax_message(error.what()));
    return false;
  }

  Json take_root() { return std::move(root_); }

 private:
  // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
  static std::string syntax_message(const std::string& what) {
    std::string rest = what;
    if (rest.rfind("[json.exception.", 0) == 0 && rest.find("] ") != std::string::npos)
      rest = rest.substr(rest.find("] ") + 2);
    if (rest.rfind("parse error at ", 0) == 0) rest = rest.substr(15);
    return "invalid JSON: " + rest;
  }

  std::string pending_path() const {
    if (stack_.empty()) return "";
    const Json& parent = *stack_.back();
    if (parent.is_object()) return json_pointer_child(paths_.back(), pending_key_);
    return json_pointer_child(paths_.back(), std::to_string(parent.size()));
  }

  Json* place(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_object()) {
      Json& slot = parent[pending_key_];
      slot = std::move(value);
      return &slot;
    }
    parent.push_back(std::move(value));
    return &parent.back();
  }

  bool add(Json value) {
    place(std::move(value));
    return true;
  }

  bool open(Json container) {
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      // The full path of a 200,000-deep array is useless to a reader: show its start.
      std::string where = paths_.back();
      if (where.size() > 48) where = where.substr(0, 48) + "...";
      problems_.add(where, fmt::format("nesting deeper than {} levels", kMaxJsonDepth));
      return false;
    }
    const std::string path = pending_path();
    stack_.push_back(place(std::move(container)));
    paths_.push_back(path);
    return true;
  }

  bool close() {
    stack_.pop_back();
    paths_.pop_back();
    return true;
  }

  ProblemList& problems_;
  Json root_;
  std::vector<Json*> stack_;
  std::vector<std::string> paths_;
  std::string pending_key_;
};

}  // namespace

std::string json_pointer_child(const std::string& parent, std::string_view key) {
  std::string path = parent + "/";
  for (char c : key) {
    if (c == '~')
      path += "~0";
    else if (c == '/')
      path += "~1";
    else
      path += c;
  }
  return path;
}

std::string describe_json_value(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::null:
      return "null";
    case Json::value_t::string: {
      std::string text = value.get<std::string>();
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return fmt::format("\"{}\"", text);
    }
    default:
      return value.dump();
  }
}

Json parse_strict_json(std::string_view text, const std::string& source) {
  if (text.size() > kMaxJsonBytes)
    throw ConfigError(source, {{"", fmt::format("a JSON document of {} bytes; expected at most {} "
                                                "(32 MiB)",
                                                text.size(), kMaxJsonBytes)}});
  ProblemList problems;
  StrictSax sax(problems);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &sax, Json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok && problems.empty()) problems.add("", "invalid JSON");
  problems.throw_if_any(source);
  return sax.take_root();
}

}  // namespace moesim
