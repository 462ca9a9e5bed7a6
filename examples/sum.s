# Sums the 32-bit little-endian words of the input memory (r1 = address, r2 = length),
# using a bpf-to-bpf call to add each word; run it with
#   bpfrun run examples/sum.s --mem "01 00 00 00 02 00 00 00 03 00 00 00"
mov %r6, %r1          # cursor
mov %r7, %r1
add %r7, %r2          # end
mov %r8, 0            # running sum
loop:
mov %r3, %r6
add %r3, 4
jgt %r3, %r7, done    # stop when fewer than 4 bytes remain
ldxw %r1, [%r6]
mov %r2, %r8
call local add
mov %r8, %r0
add %r6, 4
ja loop
done:
mov %r0, %r8
exit
add:
mov %r0, %r1
add %r0, %r2
exit
