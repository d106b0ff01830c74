# hello: the bare-metal demo that `npm start` runs until the kernel's default system lands.
# It prints through the 16550 UART, takes three CLINT timer interrupts in M-mode (sleeping in
# wfi between them, so virtual time jumps ahead), and powers off through the test device.

    .equ UART, 0x10000000
    .equ CLINT_MTIMECMP, 0x02004000
    .equ CLINT_MTIME, 0x0200bff8
    .equ TESTDEV, 0x00100000
    .equ TICK, 1000000           # 100 ms of virtual time at 10 MHz

    .text
    .globl _start
_start:
    la sp, stack_top
    la a0, banner
    call puts
    la t0, trap
    csrw mtvec, t0
    li s0, 3                     # ticks to wait for
    call arm_timer
    li t0, 0x80                  # mie.MTIE
    csrw mie, t0
    csrsi mstatus, 0x8           # mstatus.MIE
wait:
    wfi
    bnez s0, wait
    la a0, bye
    call puts
    li t0, TESTDEV
    li t1, 0x5555                # PASS
    sw t1, 0(t0)
1:  j 1b

# Timer interrupt: print a tick, re-arm, count down.
    .balign 4
trap:
    addi sp, sp, -16
    sw ra, 12(sp)
    la a0, tick
    call puts
    call arm_timer
    addi s0, s0, -1
    lw ra, 12(sp)
    addi sp, sp, 16
    mret

# mtimecmp = mtime + TICK (the high word first, so no spurious interrupt on the way)
arm_timer:
    li t0, CLINT_MTIME
    lw t1, 0(t0)
    li t2, TICK
    add t1, t1, t2
    li t0, CLINT_MTIMECMP
    li t2, -1
    sw t2, 4(t0)
    sw t1, 0(t0)
    sw zero, 4(t0)
    ret

# puts(a0): write a NUL-terminated string, polling LSR.THRE
puts:
    li t0, UART
1:  lbu t1, 0(a0)
    beqz t1, 3f
2:  lbu t2, 5(t0)
    andi t2, t2, 0x20
    beqz t2, 2b
    sb t1, 0(t0)
    addi a0, a0, 1
    j 1b
3:  ret

    .rodata
banner: .asciz "l4ts: bare-metal hello on the RV32IMAFD board (the kernel's default system comes next)\n"
tick:   .asciz "tick (timer interrupt after 100 ms of virtual time)\n"
bye:    .asciz "bye: powering off through the test device\n"

    .bss
    .balign 16
    .space 4096
stack_top:
