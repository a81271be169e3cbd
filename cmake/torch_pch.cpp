// Compiles nothing: the target only owns the shared precompiled LibTorch header (see PeftToolchain.cmake).
