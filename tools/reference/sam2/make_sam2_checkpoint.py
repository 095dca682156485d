#!/usr/bin/python3
"""Write a random SAM 2.1 video checkpoint in the Hugging Face transformers layout (model_type sam2_video).

  make_sam2_checkpoint.py --preset tiny|hiera-tiny|hiera-base-plus --out DIR [--seed N] [--dtype f16|f32]

Files: config.json (the Sam2VideoConfig fields, nested vision_config / backbone_config /
prompt_encoder_config / mask_decoder_config), processor_config.json (target_size = image_size) and
model.safetensors with exactly the tensor names of transformers' Sam2VideoModel.state_dict() (the names
come from sam2_ref.Sam2Video, whose module tree mirrors it; the tied
prompt_encoder.shared_embedding.positional_embedding is written too, as HF saves it).

Weights: the counter-based SplitMix64 stream of ../make_checkpoint.py, seeded per tensor name, so the bytes
depend only on the arguments. Scales keep activations O(1): Linear/Conv weights U(+-sqrt(3)/sqrt(fan_in)),
biases and embeddings small, LayerNorm weights 1 +- 0.1, the ConvNeXt layer scales 0.5 (HF inits 1e-6, which
would hide the fuser), object score head biased so that some frames are predicted occluded and some not.

Presets: tiny = image 128, Hiera [1,2,2,1] blocks, widths 8..48, fpn/hidden 64, mem_dim 32 (so object
pointers split into 2 tokens as the real 256/64 ones split into 4), 2 memory-attention layers. Every real
checkpoint has mem_dim 64, and transformers' Sam2VideoMemoryAttentionLayer hard-codes kv_in_dim=64, so this
tiny one (kv_in_dim = memory_encoder_output_channels = 32) loads here and in dam-java but not in transformers;
hiera-tiny = the facebook/sam2.1-hiera-tiny widths and shapes (image 1024), random weights (not committed);
hiera-base-plus = the same for facebook/sam2.1-hiera-base-plus (Hiera [2,3,16,3], widths 112..896).
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_checkpoint  # noqa: E402
import safetensors_io  # noqa: E402

FOLDER = "sam2_video"


def config(preset):
    if preset == "tiny":
        image, hidden, mlp, mem_dim = 128, 64, 32, 32
        backbone = dict(hidden_size=8, num_attention_heads=1, num_channels=3, image_size=[image, image],
                        patch_kernel_size=[7, 7], patch_stride=[4, 4], patch_padding=[3, 3], query_stride=[2, 2],
                        window_positional_embedding_background_size=[7, 7], num_query_pool_stages=3,
                        blocks_per_stage=[1, 2, 2, 1], embed_dim_per_stage=[8, 16, 32, 48],
                        num_attention_heads_per_stage=[1, 2, 2, 4], window_size_per_stage=[8, 4, 6, 2],
                        global_attention_blocks=[4], mlp_ratio=2.0, hidden_act="gelu", layer_norm_eps=1e-6)
        chans = [48, 32, 16, 8]
        mem_layers, mem_ff, fuser_inter = 2, 32, 64
        dec = dict(mlp_dim=mlp, num_attention_heads=2, iou_head_hidden_dim=32)
    elif preset == "hiera-tiny":
        image, hidden, mem_dim = 1024, 256, 64
        backbone = dict(hidden_size=96, num_attention_heads=1, num_channels=3, image_size=[1024, 1024],
                        patch_kernel_size=[7, 7], patch_stride=[4, 4], patch_padding=[3, 3], query_stride=[2, 2],
                        window_positional_embedding_background_size=[7, 7], num_query_pool_stages=3,
                        blocks_per_stage=[1, 2, 7, 2], embed_dim_per_stage=[96, 192, 384, 768],
                        num_attention_heads_per_stage=[1, 2, 4, 8], window_size_per_stage=[8, 4, 14, 7],
                        global_attention_blocks=[5, 7, 9], mlp_ratio=4.0, hidden_act="gelu", layer_norm_eps=1e-6)
        chans = [768, 384, 192, 96]
        mem_layers, mem_ff, fuser_inter = 4, 2048, 1024
        dec = dict(mlp_dim=2048, num_attention_heads=8, iou_head_hidden_dim=256)
    elif preset == "hiera-base-plus":
        # sam2.1_hiera_b+.yaml: embed_dim 112, num_heads 2, the Hiera defaults otherwise
        image, hidden, mem_dim = 1024, 256, 64
        backbone = dict(hidden_size=112, num_attention_heads=2, num_channels=3, image_size=[1024, 1024],
                        patch_kernel_size=[7, 7], patch_stride=[4, 4], patch_padding=[3, 3], query_stride=[2, 2],
                        window_positional_embedding_background_size=[14, 14], num_query_pool_stages=3,
                        blocks_per_stage=[2, 3, 16, 3], embed_dim_per_stage=[112, 224, 448, 896],
                        num_attention_heads_per_stage=[2, 4, 8, 16], window_size_per_stage=[8, 4, 14, 7],
                        global_attention_blocks=[12, 16, 20], mlp_ratio=4.0, hidden_act="gelu", layer_norm_eps=1e-6)
        chans = [896, 448, 224, 112]
        mem_layers, mem_ff, fuser_inter = 4, 2048, 1024
        dec = dict(mlp_dim=2048, num_attention_heads=8, iou_head_hidden_dim=256)
    else:
        raise ValueError(preset)
    backbone["model_type"] = "sam2_hiera_det_model"
    f = image // 4
    vision = dict(model_type="sam2_vision_model", backbone_config=backbone, backbone_channel_list=chans,
                  backbone_feature_sizes=[[f, f], [f // 2, f // 2], [f // 4, f // 4]], fpn_hidden_size=hidden,
                  fpn_kernel_size=1, fpn_stride=1, fpn_padding=0, fpn_top_down_levels=[2, 3], num_feature_levels=3,
                  hidden_act="gelu", layer_norm_eps=1e-6)
    prompt = dict(hidden_size=hidden, image_size=image, patch_size=16, mask_input_channels=16, num_point_embeddings=4,
                  hidden_act="gelu", layer_norm_eps=1e-6, scale=1)
    mask_dec = dict(hidden_size=hidden, hidden_act="gelu", mlp_dim=dec["mlp_dim"], num_hidden_layers=2,
                    num_attention_heads=dec["num_attention_heads"], attention_downsample_rate=2,
                    num_multimask_outputs=3, iou_head_depth=3, iou_head_hidden_dim=dec["iou_head_hidden_dim"],
                    dynamic_multimask_via_stability=True, dynamic_multimask_stability_delta=0.05,
                    dynamic_multimask_stability_thresh=0.98)
    return dict(
        architectures=["Sam2VideoModel"], model_type="sam2_video", torch_dtype="float32",
        vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=mask_dec,
        initializer_range=0.02, num_maskmem=7, image_size=image, sigmoid_scale_for_mem_enc=20.0,
        sigmoid_bias_for_mem_enc=-10.0, enable_occlusion_spatial_embedding=True, multimask_output_in_sam=True,
        multimask_min_pt_num=0, multimask_max_pt_num=1, multimask_output_for_tracking=True,
        max_object_pointers_in_encoder=16, max_cond_frame_num=-1,
        enable_temporal_pos_encoding_for_object_pointers=True, memory_attention_hidden_size=hidden,
        memory_attention_num_layers=mem_layers, memory_attention_num_attention_heads=1,
        memory_attention_downsample_rate=1, memory_attention_feed_forward_hidden_size=mem_ff,
        memory_attention_feed_forward_hidden_act="relu", memory_attention_dropout=0.1,
        memory_attention_rope_theta=10000.0, memory_attention_rope_feat_sizes=[f // 4, f // 4],
        memory_attention_rope_dropout=0.1, memory_encoder_hidden_size=hidden, memory_encoder_output_channels=mem_dim,
        mask_downsampler_embed_dim=hidden, mask_downsampler_kernel_size=3, mask_downsampler_stride=2,
        mask_downsampler_padding=1, mask_downsampler_total_stride=16, mask_downsampler_hidden_act="gelu",
        memory_fuser_num_layers=2, memory_fuser_embed_dim=hidden, memory_fuser_intermediate_dim=fuser_inter,
        memory_fuser_kernel_size=7, memory_fuser_padding=3, memory_fuser_layer_scale_init_value=1e-6,
        memory_fuser_hidden_act="gelu")


def weights(cfg, seed):
    import sam2_ref  # the module tree gives the exact names and shapes
    model = sam2_ref.Sam2Video(cfg)
    out = {}
    for name, t in model.state_dict().items():
        shape = tuple(t.shape)
        r = lambda std, mean=0.0: make_checkpoint.rand_tensor(seed, FOLDER, name, shape, std, mean)  # noqa: E731
        leaf = name.split(".")[-1]
        is_norm = "layer_norm" in name or "upscale_layer_norm" in name
        if is_norm and leaf == "weight":
            out[name] = r(0.1, 1.0)
        elif is_norm and leaf == "bias":
            out[name] = r(0.05)
        elif leaf == "scale":
            out[name] = r(0.05, 0.5)
        elif name == "mask_decoder.pred_obj_score_head.proj_out.bias":
            out[name] = r(1e-4, 0.686)
        elif leaf == "bias":
            out[name] = r(0.02)
        elif "positional_embedding" in name and "shared" in name:
            out[name] = r(1.0)
        elif leaf == "weight" and len(shape) >= 2 and not name.endswith("_embed.weight") and not name.endswith(
                "token.weight") and not name.endswith("tokens.weight"):
            fan_in = int(np.prod(shape[1:]))
            if ".upscale_conv" in name:  # ConvTranspose2d: (in, out, k, k)
                fan_in = shape[0]
            if "depthwise_conv" in name:
                fan_in = int(np.prod(shape[1:]))
            out[name] = r(1.0 / np.sqrt(fan_in))
        else:  # embeddings, tokens, pos_embed, memory / pointer parameters
            out[name] = r(0.5)
    out["prompt_encoder.shared_embedding.positional_embedding"] = out["shared_image_embedding.positional_embedding"]
    return out


def make(preset, out_dir, seed=7, dtype="f16"):
    os.makedirs(out_dir, exist_ok=True)
    cfg = config(preset)
    cfg["torch_dtype"] = {"f16": "float16", "f32": "float32"}[dtype]
    with open(os.path.join(out_dir, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=2, sort_keys=True)
        fh.write("\n")
    proc = {"processor_class": "Sam2VideoProcessor", "image_processor_type": "Sam2ImageProcessorFast",
            "size": {"height": cfg["image_size"], "width": cfg["image_size"]}, "target_size": cfg["image_size"],
            "do_resize": True, "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255,
            "do_normalize": True, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
            "mask_size": {"height": cfg["image_size"] // 4, "width": cfg["image_size"] // 4}}
    with open(os.path.join(out_dir, "processor_config.json"), "w") as fh:
        json.dump(proc, fh, indent=2, sort_keys=True)
        fh.write("\n")
    meta = {"format": "pt", "generator": "dam-java tools/reference/sam2/make_sam2_checkpoint.py", "preset": preset,
            "seed": str(seed), "dtype": dtype}
    safetensors_io.save_file(weights(cfg, seed), os.path.join(out_dir, "model.safetensors"),
                             dtype={"f16": "F16", "f32": "F32"}[dtype], metadata=meta)
    return out_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="tiny", choices=["tiny", "hiera-tiny", "hiera-base-plus"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dtype", default="f16", choices=["f16", "f32"])
    a = ap.parse_args()
    make(a.preset, a.out, a.seed, a.dtype)


if __name__ == "__main__":
    main()
