#pragma once
// The files that ship with diffbench (models/, configs/): in share/diffbench once installed, in the
// source tree for a build. The binary's own location decides, so an installed binary uses its own
// share/ even when a source tree exists.
#include <string>

namespace diffbench {

/// The shipped file at `relative` (e.g. "models/digits/unet.pt"), or "" when none has it.
std::string shipped_file(const std::string& relative);

/// An input path as given when it exists (or is absolute); else, for a relative path that names a
/// shipped file (configs/sd15.json run from another directory), that file, with a note on stderr
/// unless `quiet`. Otherwise the path as given, for the reader's own "no such file" error.
std::string input_path(const std::string& given, const char* flag, bool quiet);

/// The default UNet shipped in models/ (the trained digit teacher, whose manifest names its VAE,
/// conditioning and quality files).
std::string default_model_path();

}  // namespace diffbench
