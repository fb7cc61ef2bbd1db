"""The C++ testbench that drives a Verilated core through its host ports.

Usage: `harness <words.bin> <spad.bin> <acc.bin> <spad_out.bin> <acc_out.bin> <repeat>`.
It loads the instruction queue and both memories, runs the program `repeat` times (the
memories carry over, so a benchmark can run long), dumps the memories and prints
`cycles <n> error <0|1> seconds <run time>`. Sizes come in as -D macros from the build.
"""

HARNESS_CPP = r"""
#include "Vfabless_core.h"
#include "verilated.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

template <typename T> static void put(T& port, const uint8_t* src, size_t n) {
    uint64_t value = 0;
    std::memcpy(&value, src, n);
    port = static_cast<T>(value);
}
template <std::size_t N> static void put(VlWide<N>& port, const uint8_t* src, size_t n) {
    std::memset(port.data(), 0, N * sizeof(EData));
    std::memcpy(port.data(), src, n);
}
template <typename T> static void get(const T& port, uint8_t* dst, size_t n) {
    uint64_t value = port;
    std::memcpy(dst, &value, n);
}
template <std::size_t N> static void get(const VlWide<N>& port, uint8_t* dst, size_t n) {
    std::memcpy(dst, port.data(), n);
}

static std::vector<uint8_t> slurp(const char* path, size_t expect) {
    std::vector<uint8_t> data;
    FILE* f = std::fopen(path, "rb");
    if (!f) { std::fprintf(stderr, "cannot read %s\n", path); std::exit(2); }
    uint8_t buf[65536];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + got);
    std::fclose(f);
    if (expect && data.size() != expect) {
        std::fprintf(stderr, "%s has %zu bytes, expected %zu\n", path, data.size(), expect);
        std::exit(2);
    }
    return data;
}

static void spill(const char* path, const std::vector<uint8_t>& data) {
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
        std::fprintf(stderr, "cannot write %s\n", path);
        std::exit(2);
    }
    std::fclose(f);
}

int main(int argc, char** argv) {
    if (argc != 7) { std::fprintf(stderr, "usage: %s words spad acc spad_out acc_out repeat\n", argv[0]); return 2; }
    std::vector<uint8_t> words = slurp(argv[1], 0);
    std::vector<uint8_t> spad = slurp(argv[2], (size_t)SPAD_ROWS * SPAD_ROW_BYTES);
    std::vector<uint8_t> acc = slurp(argv[3], (size_t)ACC_ROWS * ACC_ROW_BYTES);
    long repeat = std::atol(argv[6]);
    size_t count = words.size() / WORD_BYTES;
    if (count > IMEM_DEPTH) { std::fprintf(stderr, "program exceeds the instruction queue\n"); return 2; }

    VerilatedContext context;
    Vfabless_core core(&context);
    auto tick = [&]() { core.clk = 0; core.eval(); core.clk = 1; core.eval(); };
    core.rst = 1; tick(); tick(); core.rst = 0;

    core.imem_we = 1;
    for (size_t i = 0; i < count; i++) {
        core.imem_addr = i;
        put(core.imem_wdata, &words[i * WORD_BYTES], WORD_BYTES);
        tick();
    }
    core.imem_we = 0;
    core.spad_we = 1;
    for (size_t i = 0; i < SPAD_ROWS; i++) {
        core.spad_row = i;
        put(core.spad_wdata, &spad[i * SPAD_ROW_BYTES], SPAD_ROW_BYTES);
        tick();
    }
    core.spad_we = 0;
    core.acc_we = 1;
    for (size_t i = 0; i < ACC_ROWS; i++) {
        core.acc_addr = i;
        put(core.acc_wdata, &acc[i * ACC_ROW_BYTES], ACC_ROW_BYTES);
        tick();
    }
    core.acc_we = 0;

    long cycles = 0;
    int error = 0;
    auto began = std::chrono::steady_clock::now();
    for (long r = 0; r < repeat; r++) {
        core.count = count; core.start = 1; tick(); core.start = 0; cycles++;
        while (core.busy) {
            if (cycles > MAX_CYCLES) { std::fprintf(stderr, "ran past %ld cycles\n", (long)MAX_CYCLES); return 3; }
            tick(); cycles++;
        }
        error |= core.error;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();

    for (size_t i = 0; i < SPAD_ROWS; i++) {
        core.spad_row = i;
        tick();
        get(core.spad_rdata, &spad[i * SPAD_ROW_BYTES], SPAD_ROW_BYTES);
    }
    for (size_t i = 0; i < ACC_ROWS; i++) {
        core.acc_addr = i;
        tick();
        get(core.acc_rdata, &acc[i * ACC_ROW_BYTES], ACC_ROW_BYTES);
    }
    spill(argv[4], spad);
    spill(argv[5], acc);
    std::printf("cycles %ld error %d seconds %.9f\n", cycles, error, seconds);
    core.final();
    return 0;
}
"""
