#pragma once
/// \file
/// Declarations of the SDK's interface classes, for headers that only pass pointers to them around.
/// Every header that defines one of them includes this first, so the visibility attribute is seen once, before
/// the definition (a later re-declaration with it would be ignored, with a warning).

#include "peft/api.h"

namespace peft {

class PEFT_API Method;
class PEFT_API Backbone;
class PEFT_API Task;
class PEFT_API Dataset;
class Site;

}  // namespace peft
