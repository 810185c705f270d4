// NumPy .npy format 1.0 writer and a defensive 1.x/2.x reader (float32 / float64, C order).
#include <cstring>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/npy.h"

namespace diffbench {

std::string to_npy(const at::Tensor& tensor) {
  at::Tensor t = tensor.to(at::kCPU, at::kFloat).contiguous();
  std::string shape;
  for (int64_t d : t.sizes()) shape += fmt::format("{}, ", d);
  if (t.dim() > 1) shape.resize(shape.size() - 2);  // (3,) keeps its comma
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  auto len = static_cast<uint16_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(t.data_ptr<float>()), t.numel() * sizeof(float));
  return out;
}

namespace {

UsageError npy_error(const std::string& origin, const std::string& why) {
  return UsageError(fmt::format("{} is not a usable .npy file: {}", origin, why));
}

// The header's shape value, "(2, 3), ..." -> {2, 3}; "()" is a scalar.
std::vector<int64_t> npy_dims(const std::string& shape_text, const std::string& origin) {
  size_t open = shape_text.find('('), close = shape_text.find(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    throw npy_error(origin, "malformed shape");
  std::vector<int64_t> shape;
  std::string dims = shape_text.substr(open + 1, close - open - 1);
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string item = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) {
      if (item.size() > 12 || item.find_first_not_of("0123456789") != std::string::npos) {
        throw npy_error(origin, "bad dimension '" + item + "'");
      }
      shape.push_back(std::stoll(item));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return shape;
}

}  // namespace

at::Tensor from_npy(const std::string& bytes, const std::string& origin) {
  auto fail = [&](const std::string& why) { return npy_error(origin, why); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw fail("missing the \\x93NUMPY magic");
  auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail("truncated header");
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    throw fail(fmt::format("unsupported format version {}", major));
  }
  if (header_len > bytes.size() - offset) throw fail("truncated header");
  const std::string header = bytes.substr(offset, header_len);
  offset += header_len;
  auto value_of = [&](const std::string& key) -> std::string {
    size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw fail("header has no '" + key + "'");
    size_t colon = header.find(':', k);
    if (colon == std::string::npos) throw fail("malformed header");
    return header.substr(colon + 1);
  };
  std::string descr = value_of("descr");
  size_t q1 = descr.find('\''), q2 = q1 == std::string::npos ? q1 : descr.find('\'', q1 + 1);
  if (q2 == std::string::npos) throw fail("malformed descr");
  descr = descr.substr(q1 + 1, q2 - q1 - 1);
  if (descr != "<f4" && descr != "<f8")
    throw fail("dtype '" + descr + "' is not supported; save float32 ('<f4') or float64");
  if (value_of("fortran_order").find("False") != 0 && value_of("fortran_order").find(" False") != 0) {
    throw fail("Fortran order is not supported; save a C-contiguous array");
  }
  std::vector<int64_t> shape = npy_dims(value_of("shape"), origin);
  double count = 1;
  for (int64_t d : shape) count *= double(d);
  size_t item_size = descr == "<f4" ? 4 : 8;
  if (count * double(item_size) != double(bytes.size() - offset)) {
    throw fail(
        fmt::format("data is {} bytes but shape needs {:.0f}", bytes.size() - offset, count * double(item_size)));
  }
  auto dtype = item_size == 4 ? at::kFloat : at::kDouble;
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (t.numel() > 0) std::memcpy(t.data_ptr(), bytes.data() + offset, bytes.size() - offset);
  return t.to(at::kFloat);
}

}  // namespace diffbench
