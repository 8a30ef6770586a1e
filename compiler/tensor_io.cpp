#include "compiler/tensor_io.h"

#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <zlib.h>

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

// ---- .npz: a zip archive of .npy members (PKWARE APPNOTE layout). Only the
// central directory, local headers and stored/deflate members are read;
// zlib does the inflating.

namespace {

uint64_t le(const std::string &b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | (unsigned char)b[at + (size_t)i];
  return v;
}

std::string inflate_raw(const std::string &in, size_t size, const std::string &what) {
  std::string out(size, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw CompileError(what + ": zlib initialisation failed");
  zs.next_in = (Bytef *)in.data();
  zs.avail_in = (uInt)in.size();
  zs.next_out = (Bytef *)out.data();
  zs.avail_out = (uInt)out.size();
  int rc = inflate(&zs, Z_FINISH);
  size_t got = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || got != size)
    throw CompileError(fmt::format("{}: corrupt deflate data ({})", what, rc == Z_STREAM_END ? "wrong size" : "zlib error"));
  return out;
}

} // namespace

std::vector<std::pair<std::string, Tensor>> parse_npz(const std::string &b, const std::string &what) {
  auto bad = [&](const std::string &why) { return CompileError(what + ": not a readable .npz archive: " + why); };
  if (b.size() < 22) throw bad("too short");
  // End of central directory: the last record with its signature.
  size_t eocd = std::string::npos;
  size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (size_t p = b.size() - 22 + 1; p-- > lowest;)
    if (le(b, p, 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  if (eocd == std::string::npos) throw bad("no zip end-of-directory record");
  uint64_t entries = le(b, eocd + 10, 2), cd_size = le(b, eocd + 12, 4), cd_off = le(b, eocd + 16, 4);
  if ((entries == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) && eocd >= 20 &&
      le(b, eocd - 20, 4) == 0x07064b50) {
    uint64_t z = le(b, eocd - 20 + 8, 8);
    if (z + 56 > b.size() || le(b, (size_t)z, 4) != 0x06064b50) throw bad("bad zip64 end-of-directory record");
    entries = le(b, (size_t)z + 32, 8);
    cd_size = le(b, (size_t)z + 40, 8);
    cd_off = le(b, (size_t)z + 48, 8);
  }
  if (cd_off > b.size() || cd_size > b.size() - cd_off) throw bad("central directory outside the file");
  std::vector<std::pair<std::string, Tensor>> out;
  size_t p = (size_t)cd_off;
  for (uint64_t e = 0; e < entries; ++e) {
    if (p + 46 > b.size() || le(b, p, 4) != 0x02014b50) throw bad("bad central directory entry");
    uint64_t flags = le(b, p + 8, 2), method = le(b, p + 10, 2), crc = le(b, p + 16, 4);
    uint64_t csize = le(b, p + 20, 4), usize = le(b, p + 24, 4);
    size_t nlen = (size_t)le(b, p + 28, 2), xlen = (size_t)le(b, p + 30, 2), clen = (size_t)le(b, p + 32, 2);
    uint64_t loff = le(b, p + 42, 4);
    if (p + 46 + nlen + xlen + clen > b.size()) throw bad("truncated central directory");
    std::string name = b.substr(p + 46, nlen);
    // Zip64 extra field: 64-bit sizes / offset for the fields set to 0xffffffff.
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      size_t id = (size_t)le(b, x, 2), len = (size_t)le(b, x + 2, 2);
      if (x + 4 + len > p + 46 + nlen + xlen) break;
      if (id == 1) {
        size_t q = x + 4;
        if (usize == 0xffffffff && q + 8 <= x + 4 + len) usize = le(b, q, 8), q += 8;
        if (csize == 0xffffffff && q + 8 <= x + 4 + len) csize = le(b, q, 8), q += 8;
        if (loff == 0xffffffff && q + 8 <= x + 4 + len) loff = le(b, q, 8), q += 8;
      }
      x += 4 + len;
    }
    p += 46 + nlen + xlen + clen;
    std::string member = what + ":" + name;
    if (!name.empty() && name.back() == '/') continue; // a folder
    if (flags & 1) throw CompileError(member + ": encrypted zip members are not supported");
    if (loff + 30 > b.size() || le(b, (size_t)loff, 4) != 0x04034b50) throw CompileError(member + ": bad local header");
    size_t data = (size_t)loff + 30 + (size_t)le(b, (size_t)loff + 26, 2) + (size_t)le(b, (size_t)loff + 28, 2);
    if (data > b.size() || csize > b.size() - data) throw CompileError(member + ": member data outside the file");
    std::string raw = b.substr(data, (size_t)csize), npy;
    if (method == 0) {
      if (csize != usize) throw CompileError(member + ": stored member with different sizes");
      npy = std::move(raw);
    } else if (method == 8) {
      if (usize > (uint64_t)1 << 34) throw CompileError(member + ": member too large");
      npy = inflate_raw(raw, (size_t)usize, member);
    } else {
      throw CompileError(fmt::format("{}: zip compression method {} is not supported (stored and deflate are)",
                                     member, method));
    }
    if (crc32(0L, (const Bytef *)npy.data(), (uInt)npy.size()) != crc) throw CompileError(member + ": CRC mismatch");
    std::string key = name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    out.emplace_back(key, parse_npy(npy, member));
  }
  return out;
}

std::vector<std::pair<std::string, Tensor>> load_npz(const std::string &path) { return parse_npz(read_all(path), path); }

} // namespace tmc::driver
