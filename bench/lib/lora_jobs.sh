# Sourced by bench 10 and 11 (data_parallel.sh, accumulation.sh): the two jobs both train, as the array `lora_jobs`,
# a line each: name | recipe | --set arguments (set_args.sh) — LoRA on the shipped ViT-Mini (mini-vtab novel, bench
# 1's recipe) and on the shipped tiny LLaMA (mini-lm lm-science, its recipe); epochs and batch are each script's.
# Makes the data they read with $peft where it is missing.
[[ -f data/mini-vtab/novel/test.txt ]] || $peft data mini-vtab --out data/mini-vtab >/dev/null
[[ -f data/mini-lm/lm-science/test.jsonl ]] || $peft data mini-lm --out data/mini-lm >/dev/null
lora_jobs=(
  'vit-mini lora qkv|bench/mini_vtab/base.toml|method.plugin="lora" method.targets=["attn.qkv"] train.lr=0.01'
  'llama-mini lora q,v|configs/mini-lm/lm-science.toml|method.plugin="lora" method.targets=["q_proj","v_proj"] method.options={r=8} train.lr=0.001'
)
