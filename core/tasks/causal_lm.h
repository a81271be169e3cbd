#pragma once

#include "peft/registry.h"

namespace peft {

/// The name recipes give it: `task = "causal_lm"`.
inline constexpr const char* kCausalLm = "causal_lm";

/// Registers causal_lm: text records (JSON Lines or a JSON array; plain text, Alpaca, prompt/completion) tokenised
/// with the backbone's tokenizer, labels -100 on the prompt (unless train_on_prompt) and on padding, the shifted
/// next-token cross-entropy as Hugging Face's causal LMs compute it, and loss, perplexity (primary) and token
/// accuracy. The backbone's own LM head is kept, frozen.
void register_causal_lm(Registry& registry);

}  // namespace peft
