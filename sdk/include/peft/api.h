#pragma once
/// \file
/// Versions and symbol visibility of the peft plugin SDK.
///
/// A plugin is accepted only when it was built against the same `PEFT_API_VERSION` as the host; the number goes up
/// whenever a public SDK type changes layout or meaning.

#define PEFT_SDK_VERSION "0.1.0"

/// The plugin API version: a plugin built against another number is refused before any of its code runs.
#define PEFT_API_VERSION 9

#if defined(_WIN32)
#define PEFT_EXPORT __declspec(dllexport)
#define PEFT_API
#else
/// Marks a symbol a plugin exports to the host (its entry point).
#define PEFT_EXPORT __attribute__((visibility("default")))
/// Marks an SDK class or function: default visibility, so type information is shared and `dynamic_cast` works
/// across the host and plugins even when they build with hidden visibility.
#define PEFT_API __attribute__((visibility("default")))
#endif
