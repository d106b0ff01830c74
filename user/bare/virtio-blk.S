# virtio-blk bare-metal test (issue 2): drives the virtio-blk device in slot 0 by polling, as a
# minimal driver would (virtio 1.2 §3.1.1 driver initialisation, §2.7 split virtqueues, §5.2.6
# block requests). Writes a pattern to sector 2, reads it back and compares, flushes; then puts
# the IOMMU in enforce mode with a window over the ring page only and checks that a read into a
# buffer outside the window fails with VIRTIO_BLK_S_IOERR, leaves the buffer untouched, and is
# recorded in the IOMMU's fault log. Exit: test device PASS, or FAIL with the step number.

    .equ VIO, 0x10001000
    .equ IOMMU, 0x10100000
    .equ TESTDEV, 0x00100000
    .equ QSIZE, 8

    .text
    .globl _start
_start:
    la sp, stack_top
    li s1, VIO
    li a0, 1                      # step 1: identify
    lw t0, 0(s1)
    li t1, 0x74726976
    bne t0, t1, fail
    lw t0, 4(s1)
    li t1, 2
    bne t0, t1, fail
    lw t0, 8(s1)
    bne t0, t1, fail              # DeviceID 2 = block
    sw zero, 0x70(s1)             # reset
    li t0, 1
    sw t0, 0x70(s1)               # ACKNOWLEDGE
    li t0, 3
    sw t0, 0x70(s1)               # DRIVER
    li a0, 2                      # step 2: features
    li t0, 1
    sw t0, 0x14(s1)               # DeviceFeaturesSel = 1
    lw t0, 0x10(s1)
    andi t0, t0, 1                # VIRTIO_F_VERSION_1 (bit 32)
    beqz t0, fail
    li t0, 1
    sw t0, 0x24(s1)               # DriverFeaturesSel = 1
    sw t0, 0x20(s1)               # accept VERSION_1
    sw zero, 0x24(s1)
    sw zero, 0x20(s1)             # nothing else
    li t0, 0xb
    sw t0, 0x70(s1)               # FEATURES_OK
    lw t0, 0x70(s1)
    andi t0, t0, 8
    beqz t0, fail
    li a0, 3                      # step 3: queue 0
    sw zero, 0x30(s1)             # QueueSel = 0
    lw t0, 0x34(s1)               # QueueNumMax
    li t1, QSIZE
    blt t0, t1, fail
    sw t1, 0x38(s1)               # QueueNum
    la t0, ring
    sw t0, 0x80(s1)               # QueueDesc
    sw zero, 0x84(s1)
    addi t1, t0, 0x100
    sw t1, 0x90(s1)               # QueueDriver (avail)
    sw zero, 0x94(s1)
    addi t1, t0, 0x200
    sw t1, 0xa0(s1)               # QueueDevice (used)
    sw zero, 0xa4(s1)
    li t0, 1
    sw t0, 0x44(s1)               # QueueReady
    li t0, 0xf
    sw t0, 0x70(s1)               # DRIVER_OK
    li s2, 0                      # next avail idx / expected used idx

    la t0, buf                    # pattern: byte i = i*7 + 3
    li t1, 0
1:  slli t2, t1, 3
    sub t2, t2, t1
    addi t2, t2, 3
    add t3, t0, t1
    sb t2, 0(t3)
    addi t1, t1, 1
    li t2, 512
    blt t1, t2, 1b

    li a0, 1                      # step 4: write sector 2
    li a1, 2
    la a2, buf
    li a3, 512
    call blk_req
    li t0, 4
    bnez a0, fail_t0
    li a0, 0                      # step 5: read it back
    li a1, 2
    la a2, rbuf
    li a3, 512
    call blk_req
    li t0, 5
    bnez a0, fail_t0
    la t0, buf                    # step 6: compare
    la t1, rbuf
    li t2, 512
2:  lbu t3, 0(t0)
    lbu t4, 0(t1)
    li a0, 6
    bne t3, t4, fail
    addi t0, t0, 1
    addi t1, t1, 1
    addi t2, t2, -1
    bnez t2, 2b
    li a0, 4                      # step 7: flush
    li a1, 0
    li a2, 0
    li a3, 0
    call blk_req
    li t0, 7
    bnez a0, fail_t0

    # ---- IOMMU: window 0 of device 0 = the ring page, read/write; then enforce ----
    li s3, IOMMU
    li t0, 0x100                  # device 0, window 0
    add t0, s3, t0
    sw zero, 8(t0)                # FLAGS = 0 while changing
    la t1, ring
    sw t1, 0(t0)                  # BASE
    li t1, 4096
    sw t1, 4(t0)                  # SIZE
    li t1, 3
    sw t1, 8(t0)                  # FLAGS = read | write
    lw t1, 8(t0)
    li a0, 8
    li t2, 3
    bne t1, t2, fail
    li t1, 1
    sw t1, 0(s3)                  # MODE = enforce
    la t0, far                    # fill the outside buffer with 0xaa
    li t1, 0xaaaaaaaa
    sw t1, 0(t0)
    sw t1, 4(t0)
    li a0, 0                      # step 9: read into `far` (outside the window)
    li a1, 2
    la a2, far
    li a3, 512
    call blk_req
    li t0, 9
    li t1, 1                      # VIRTIO_BLK_S_IOERR
    bne a0, t1, fail_t0
    la t0, far                    # step 10: untouched
    lw t1, 0(t0)
    li t2, 0xaaaaaaaa
    li a0, 10
    bne t1, t2, fail
    lw t1, 0x10(s3)               # step 11: fault recorded
    li a0, 11
    beqz t1, fail
    lw t1, 0x18(s3)               # FAULT_ADDR = far
    la t2, far
    li a0, 12
    bne t1, t2, fail
    lw t1, 0x24(s3)               # FAULT_ACCESS = 1 (device write to memory)
    li a0, 13
    li t2, 1
    bne t1, t2, fail
    lw t1, 0x14(s3)               # FAULT_DEV = 0
    li a0, 14
    bnez t1, fail

    li t0, TESTDEV
    li t1, 0x5555
    sw t1, 0(t0)
3:  j 3b

fail_t0:
    mv a0, t0
fail:                             # test device FAIL with code a0
    slli a0, a0, 16
    li t1, 0x3333
    or a0, a0, t1
    li t0, TESTDEV
    sw a0, 0(t0)
4:  j 4b

# blk_req(a0 = type, a1 = sector, a2 = data buffer or 0, a3 = length): one request on queue 0;
# polls the used ring; returns the status byte in a0.
blk_req:
    la t0, ring
    addi t1, t0, 0x400            # header at ring + 0x400
    sw a0, 0(t1)                  # type
    sw zero, 4(t1)                # reserved
    sw a1, 8(t1)                  # sector (low)
    sw zero, 12(t1)               # sector (high)
    addi t2, t0, 0x410            # status byte at ring + 0x410
    li t3, 0xff
    sb t3, 0(t2)
    # desc 0: header, device-readable, NEXT
    sw t1, 0(t0)
    sw zero, 4(t0)
    li t3, 16
    sw t3, 8(t0)
    li t3, 1                      # NEXT
    sh t3, 12(t0)
    li t3, 1
    sh t3, 14(t0)                 # next = 1
    beqz a3, 5f                   # no data: header -> status
    # desc 1: data; device-writable for IN (type 0)
    sw a2, 16(t0)
    sw zero, 20(t0)
    sw a3, 24(t0)
    li t3, 1                      # NEXT
    bnez a0, 6f
    li t3, 3                      # NEXT | WRITE
6:  sh t3, 28(t0)
    li t3, 2
    sh t3, 30(t0)                 # next = 2
    li t4, 32                     # status descriptor offset (desc 2)
    j 7f
5:  li t3, 2
    sh t3, 14(t0)                 # next = 2 (skip desc 1)
    li t4, 32
7:  add t5, t0, t4                # status descriptor: device-writable, last
    sw t2, 0(t5)
    sw zero, 4(t5)
    li t3, 1
    sw t3, 8(t5)
    li t3, 2                      # WRITE
    sh t3, 12(t5)
    sh zero, 14(t5)
    # avail ring: ring[idx % QSIZE] = 0; then idx++ (after a fence: §2.7.13)
    addi t3, t0, 0x100
    andi t4, s2, QSIZE-1
    slli t4, t4, 1
    add t4, t4, t3
    sh zero, 4(t4)
    fence
    addi s2, s2, 1
    sh s2, 2(t3)
    fence
    sw zero, 0x50(s1)             # QueueNotify = 0
    addi t3, t0, 0x200            # poll used.idx
8:  lhu t4, 2(t3)
    bne t4, s2, 8b
    fence
    lbu a0, 0(t2)
    ret

    .bss
    .balign 4096
ring:   .space 4096
buf:    .space 512
rbuf:   .space 512
    .balign 4096
far:    .space 4096
    .balign 16
    .space 4096
stack_top:
