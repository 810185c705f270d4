#include "diffbench/core/errors.h"

#include <c10/util/Exception.h>

namespace diffbench {

std::string one_line(const std::exception& e) {
  std::string text;
  if (auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    text = c10_error->what_without_backtrace();
  } else {
    text = e.what();
  }
  // A TorchScript interpreter failure puts the real error ("RuntimeError: ...") on its last lines.
  if (text.find("failed in the TorchScript interpreter") != std::string::npos) {
    size_t pos = text.rfind("Error: ");
    if (pos != std::string::npos) {
      size_t line_start = text.rfind('\n', pos);
      text = text.substr(line_start == std::string::npos ? 0 : line_start + 1);
    }
  }
  // LibTorch messages carry a backtrace or a TorchScript source excerpt after the first line.
  size_t start = text.find_first_not_of(" \n\t");
  if (start == std::string::npos) return "unknown error";
  size_t end = text.find('\n', start);
  std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == ':')) line.pop_back();
  return line;
}

}  // namespace diffbench
