# cpu-mix: the CPU benchmark's workload. Three integer kernels, repeated ROUNDS times, then a
# checksum is compared with the expected value and the test device is told PASS or FAIL.
#   sieve  - sieve of Eratosthenes over 32768 bytes (byte loads/stores, branches)
#   crc32  - bitwise CRC-32 over 4096 bytes (shifts, xor, data-dependent branches)
#   matmul - 24x24 integer matrix multiply (mul, word loads, nested loops)
# Runs in whatever mode it is entered in; bench/cpu.ts runs it in M-mode (bare) and in U-mode
# under Sv32 paging.

    .equ ROUNDS, 60
    .equ SIEVE_N, 32768
    .equ CRC_LEN, 4096
    .equ MAT_N, 24

    .text
    .globl _start
_start:
    li s0, ROUNDS
    li s11, 0                 # checksum
round:
    # ---- sieve ----
    la a0, sieve
    li a1, SIEVE_N
    li t0, 0
1:  add t1, a0, t0            # mark all as prime
    li t2, 1
    sb t2, 0(t1)
    addi t0, t0, 1
    blt t0, a1, 1b
    li t0, 2                  # p
2:  mul t1, t0, t0
    bge t1, a1, 4f
    add t2, a0, t0
    lbu t2, 0(t2)
    beqz t2, 3f
5:  add t3, a0, t1            # clear multiples from p*p
    sb zero, 0(t3)
    add t1, t1, t0
    blt t1, a1, 5b
3:  addi t0, t0, 1
    j 2b
4:  li t0, 2                  # count primes
    li t4, 0
6:  add t1, a0, t0
    lbu t2, 0(t1)
    add t4, t4, t2
    addi t0, t0, 1
    blt t0, a1, 6b
    add s11, s11, t4

    # ---- crc32 over the sieve bytes ----
    la a0, sieve
    li a1, CRC_LEN
    li a2, -1                 # crc
    li a3, 0xedb88320
    li t0, 0
7:  add t1, a0, t0
    lbu t2, 0(t1)
    xor a2, a2, t2
    li t3, 8
8:  andi t4, a2, 1
    srli a2, a2, 1
    beqz t4, 9f
    xor a2, a2, a3
9:  addi t3, t3, -1
    bnez t3, 8b
    addi t0, t0, 1
    blt t0, a1, 7b
    not a2, a2
    add s11, s11, a2

    # ---- matmul: C = A * B, A[i][j] = i + j, B[i][j] = i - j ----
    la a0, mat_a
    la a1, mat_b
    li t0, 0
10: li t1, 0
11: li t5, MAT_N
    mul t2, t0, t5
    add t2, t2, t1
    slli t2, t2, 2
    add t3, t0, t1
    add t6, a0, t2
    sw t3, 0(t6)
    sub t3, t0, t1
    add t6, a1, t2
    sw t3, 0(t6)
    addi t1, t1, 1
    blt t1, t5, 11b
    addi t0, t0, 1
    blt t0, t5, 10b
    li t0, 0                  # i
    li a4, 0                  # trace accumulator
12: li t1, 0                  # j
13: li t2, 0                  # k
    li a5, 0                  # sum
    li t5, MAT_N
14: mul t3, t0, t5            # A[i][k]
    add t3, t3, t2
    slli t3, t3, 2
    add t3, t3, a0
    lw t3, 0(t3)
    mul t4, t2, t5            # B[k][j]
    add t4, t4, t1
    slli t4, t4, 2
    add t4, t4, a1
    lw t4, 0(t4)
    mul t3, t3, t4
    add a5, a5, t3
    addi t2, t2, 1
    blt t2, t5, 14b
    xor a4, a4, a5
    add a4, a4, t1
    addi t1, t1, 1
    blt t1, t5, 13b
    addi t0, t0, 1
    blt t0, t5, 12b
    add s11, s11, a4

    addi s0, s0, -1
    bnez s0, round

    # ---- report: the checksum is compared by the host (left in a0), PASS to the test device
    mv a0, s11
    la t0, result
    sw s11, 0(t0)
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b

    .data
    .balign 4
result: .word 0
    .bss
    .balign 4096
sieve:  .space 32768
mat_a:  .space 2304
mat_b:  .space 2304
