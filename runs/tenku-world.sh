#!/usr/bin/env bash
# The recipe of the shipped tenku-world model. Every stage resumes where it stopped: rerun the script after a kill.
#
#   RUNS=/work/runs bash runs/tenku-world.sh            # CPU (2 cores: hours), or
#   RUNS=/data/runs DEVICE=cuda bash runs/tenku-world.sh
#
# Stage 1 trains the causal video VAE on the full procedural world (every shape, motion, setting, camera and
# occluder) at 9-frame clips: the VAE is convolutional and causal, so short clips teach it everything that longer
# ones would. Its loss has a hard-pixel term (VAEConfig.hard_weight): without it the VAE erases the objects, which
# are 1.5% of the pixels. Stage 1b continues it on the core world with the object pixels weighted up in its L1
# term (--focus-weight 10): with the plain loss the VAE kept the objects of only a fifth of the benchmark's
# renders (their colour and shape), and the DiT can draw nothing its latents cannot hold. Stage 2 trains the DiT on cached latents of the core world minus held-out combinations
# (`--data world-core`, see tenku/data.py), with the latent cells that show objects weighted up (--focus-weight),
# less so the noisier they are (--focus-fade: a flat weight teaches the model to start objects everywhere), its
# learning rate falling linearly to zero over the last DIT_COOL steps (v7's gain over v6 came from such a cool-down).
# Stage 3 fine-tunes the VAE's decoder alone (--freeze-encoder): the latents stay exactly those the DiT trained on,
# so it can run beside stage 2 (on a GPU, or one core each on a CPU) and its decoder ships with the DiT.
# Stage 4 copies the EMA weights into the package as fp16 with the logs and the model card (runs/ship.py).
#
# The shipped weights were trained in stages across sessions, each continuing the last with --init (the card
# lists them); a run of this script from scratch does the same training in one go per stage.
set -euo pipefail
RUNS=${RUNS:-runs/out}
DEVICE=${DEVICE:-cpu}
VAE_STEPS=${VAE_STEPS:-4000}
DIT_STEPS=${DIT_STEPS:-20000}
DIT_CLIPS=${DIT_CLIPS:-3000}
DIT_COOL=${DIT_COOL:-2000}
OBJ_STEPS=${OBJ_STEPS:-4000}
DEC_STEPS=${DEC_STEPS:-4000}

tenku train vae --preset vae-world --data world --buckets 9x64x64 --batch-size 8 --lr 3e-4 --warmup-steps 100 \
  --clips 1000000 --steps "$VAE_STEPS" --log-every 25 --ckpt-every 250 --device "$DEVICE" --out "$RUNS/vae-world"

tenku train vae --preset vae-world --init "$RUNS/vae-world" --data world-core --buckets 9x64x64 --batch-size 8 \
  --lr 3e-4 --warmup-steps 50 --focus-weight 10 --clips 1000000 --steps "$OBJ_STEPS" --log-every 25 --ckpt-every 100 \
  --device "$DEVICE" --out "$RUNS/vae-objects"

tenku train dit --preset dit-world --vae "$RUNS/vae-objects" --data world-core --clips "$DIT_CLIPS" \
  --buckets 33x64x64 --batch-size 32 --lr 5e-4 --warmup-steps 200 --ema-decay 0.998 --focus-weight 4 \
  --focus-fade --steps "$DIT_STEPS" --cooldown-steps "$DIT_COOL" --log-every 25 --ckpt-every 250 --device "$DEVICE" --out "$RUNS/dit-world"

tenku train vae --preset vae-world --init "$RUNS/vae-objects" --freeze-encoder --data world-core --buckets 9x64x64 \
  --focus-weight 10 --batch-size 8 --lr 3e-4 --warmup-steps 50 --clips 1000000 --steps "$DEC_STEPS" --log-every 25 --ckpt-every 250 \
  --device "$DEVICE" --out "$RUNS/vae-decoder"

# Stage 5, on a GPU (v9): runs/gpu_world.py streams fresh world-core clips, rendered by worker processes, into a
# pool of latents on the device and trains the DiT (and, for a fifth of the time, the decoder alone) from it, with
# a cool-down over the last part of its time. The text encoder travels packed (runs/pack_text.py). v9 is two such
# runs from v8 on one H200: 480 s, then 150 s more at a lower learning rate on other clips (runs/tenku-world-card.md).
#   python3 runs/pack_text.py .gpu/text
#   python3 runs/gpu_world.py --init tenku/weights/tenku-world --out "$RUNS/gpu-1-raw" --seconds 480 --data-seed 100
#   python3 runs/gpu_world.py --assemble "$RUNS/gpu-1-raw" --into "$RUNS/gpu-1"
#   python3 runs/gpu_world.py --init "$RUNS/gpu-1/model" --out "$RUNS/gpu-2-raw" --seconds 150 --lr 2.5e-4 \
#     --warmup-steps 100 --cooldown 0.6 --data-seed 101
#   python3 runs/gpu_world.py --assemble "$RUNS/gpu-2-raw" --into "$RUNS/gpu-2" --init "$RUNS/gpu-1/model"
# (v9's runs gave the decoder a fifth of the step time, an option since replaced by --vae-every: about one decoder
# step per 1.3 DiT steps then, --vae-every 1 comes closest.)
# v10: the DiT grown from 6 to 8 blocks (new blocks start as the identity), then two runs at batch 512, one decoder
# step every second DiT step (the default):
#   python3 runs/gpu_world.py --init "$RUNS/gpu-2/model" --out "$RUNS/gpu-3-raw" --seconds 490 --batch-size 512 \
#     --lr 5e-4 --warmup-steps 300 --cooldown 0.4 --grow-depth 8 --data-seed 102
#   python3 runs/gpu_world.py --assemble "$RUNS/gpu-3-raw" --into "$RUNS/gpu-3" --init "$RUNS/gpu-2/model"
#   python3 runs/gpu_world.py --init "$RUNS/gpu-3/model" --out "$RUNS/gpu-4-raw" --seconds 165 --batch-size 512 \
#     --lr 2.5e-4 --warmup-steps 100 --cooldown 0.6 --data-seed 103
#   python3 runs/gpu_world.py --assemble "$RUNS/gpu-4-raw" --into "$RUNS/gpu-4" --init "$RUNS/gpu-3/model"

python3 runs/ship.py "$RUNS/dit-world" --vae-run "$RUNS/vae-world" --vae-run "$RUNS/vae-objects" --vae-run "$RUNS/vae-decoder" --vae "$RUNS/vae-decoder" --guidance 2.5
