{
  "targets": [
    {
      "target_name": "kindling_torch",
      "sources": ["native/kindling_torch.cc", "native/process_group.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch.cjs include)"
      ],
      "libraries": ["<!@(node scripts/libtorch.cjs libs)", "<!@(node scripts/libtorch.cjs rpath)", "-fopenmp", "-ldl"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_ENABLE_CPP_RTTI": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      }
    }
  ]
}
