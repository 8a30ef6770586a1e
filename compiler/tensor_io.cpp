#include "compiler/tensor_io.h"

#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace tmc::driver {

using ir::CompileError;
using ir::DType;

static std::string read_all(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CompileError(path + ": cannot open the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

static DType npy_dtype(const std::string &d, const std::string &what) {
  if (d.size() < 3) throw CompileError(what + ": bad .npy dtype '" + d + "'");
  char endian = d[0];
  std::string code = d.substr(1);
  if (endian == '>' && code != "i1" && code != "u1" && code != "b1")
    throw CompileError(what + ": big-endian .npy data is not supported");
  if (code == "f4") return DType::F32;
  if (code == "f8") return DType::F64;
  if (code == "f2") return DType::F16;
  if (code == "i1") return DType::I8;
  if (code == "i2") return DType::I16;
  if (code == "i4") return DType::I32;
  if (code == "i8") return DType::I64;
  if (code == "u1") return DType::U8;
  if (code == "u2") return DType::U16;
  if (code == "u4") return DType::U32;
  if (code == "u8") return DType::U64;
  if (code == "b1") return DType::Bool;
  throw CompileError(what + ": unsupported .npy dtype '" + d + "'");
}

Tensor parse_npy(const std::string &b, const std::string &what) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw CompileError(what + ": not a .npy file");
  int major = (unsigned char)b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = (unsigned char)b[8] | ((size_t)(unsigned char)b[9] << 8);
    hstart = 10;
  } else {
    if (b.size() < 12) throw CompileError(what + ": truncated .npy header");
    hlen = (unsigned char)b[8] | ((size_t)(unsigned char)b[9] << 8) | ((size_t)(unsigned char)b[10] << 16) |
           ((size_t)(unsigned char)b[11] << 24);
    hstart = 12;
  }
  if (hstart + hlen > b.size()) throw CompileError(what + ": truncated .npy header");
  std::string h = b.substr(hstart, hlen);
  auto field = [&](const std::string &key) -> std::string {
    size_t p = h.find("'" + key + "'");
    if (p == std::string::npos) throw CompileError(what + ": .npy header lacks '" + key + "'");
    p = h.find(':', p);
    if (p == std::string::npos) throw CompileError(what + ": bad .npy header");
    ++p;
    while (p < h.size() && h[p] == ' ') ++p;
    size_t e;
    if (h[p] == '\'') {
      e = h.find('\'', p + 1);
      return h.substr(p + 1, e - p - 1);
    }
    if (h[p] == '(') {
      e = h.find(')', p);
      return h.substr(p + 1, e - p - 1);
    }
    e = h.find_first_of(",}", p);
    return h.substr(p, e - p);
  };
  Tensor t;
  t.dtype = npy_dtype(field("descr"), what);
  if (field("fortran_order").find("True") != std::string::npos)
    throw CompileError(what + ": Fortran-ordered .npy data is not supported");
  std::string sh = field("shape");
  std::stringstream ss(sh);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    size_t a = tok.find_first_not_of(' ');
    if (a == std::string::npos) continue;
    t.shape.push_back(std::stoll(tok.substr(a)));
  }
  size_t bytes = (size_t)ir::shape_numel(t.shape) * ir::dtype_size(t.dtype);
  size_t dstart = hstart + hlen;
  if (b.size() - dstart < bytes)
    throw CompileError(fmt::format("{}: .npy data is truncated ({} of {} bytes)", what, b.size() - dstart, bytes));
  t.data = std::make_shared<ir::Bytes>(b.begin() + (std::ptrdiff_t)dstart, b.begin() + (std::ptrdiff_t)(dstart + bytes));
  return t;
}

std::string write_npy(const Tensor &t) {
  const char *descr = "<f4";
  switch (t.dtype) {
  case DType::F32: descr = "<f4"; break;
  case DType::F64: descr = "<f8"; break;
  case DType::F16: descr = "<f2"; break;
  case DType::I8: descr = "|i1"; break;
  case DType::I16: descr = "<i2"; break;
  case DType::I32: descr = "<i4"; break;
  case DType::I64: descr = "<i8"; break;
  case DType::U8: descr = "|u1"; break;
  case DType::U16: descr = "<u2"; break;
  case DType::U32: descr = "<u4"; break;
  case DType::U64: descr = "<u8"; break;
  case DType::Bool: descr = "|b1"; break;
  default: throw CompileError("cannot write this dtype as .npy");
  }
  std::string shape;
  for (size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + ",";
  if (t.shape.size() > 1) shape.pop_back();
  std::string h = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += (char)1;
  out += (char)0;
  out += (char)(h.size() & 0xff);
  out += (char)(h.size() >> 8);
  out += h;
  out.append(t.data->begin(), t.data->end());
  return out;
}

Tensor load_tensor_file(const std::string &path) {
  std::string b = read_all(path);
  bool is_npy = b.size() >= 6 && b.compare(0, 6, "\x93NUMPY") == 0;
  if (is_npy) return parse_npy(b, path);
  return frontend::parse_tensor_proto_bytes(b, path);
}

} // namespace tmc::driver
