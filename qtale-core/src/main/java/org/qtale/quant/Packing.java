package org.qtale.quant;

import java.util.Arrays;
import org.qtale.QtaleException;
import org.qtale.quant.PackedTensors.FloatMatrix;
import org.qtale.quant.PackedTensors.IntMatrix;

/** What the GPTQ and AWQ layouts share: bit streams of int32 words, range and shape checks, the scale transpose. */
final class Packing {
    private Packing() {
    }

    /**
     * ORs the low {@code bits} bits of {@code value} into a little-endian bit stream at bit {@code bit}. Consecutive
     * 32-bit words of the stream are {@code stride} apart in {@code words}, starting at {@code first}; a value that
     * crosses a word boundary keeps its low bits at the top of one word and its high bits at the bottom of the next.
     */
    static void put(int[] words, int first, int stride, long bit, int bits, int value) {
        int word = first + (int) (bit >>> 5) * stride;
        int shift = (int) (bit & 31);
        words[word] |= value << shift;
        if (shift + bits > Integer.SIZE) {
            words[word + stride] |= value >>> (Integer.SIZE - shift);
        }
    }

    /** The {@code bits}-bit value at bit {@code bit} of the stream {@link #put} writes. */
    static int get(int[] words, int first, int stride, long bit, int bits) {
        int word = first + (int) (bit >>> 5) * stride;
        int shift = (int) (bit & 31);
        long value = Integer.toUnsignedLong(words[word]) >>> shift;
        if (shift + bits > Integer.SIZE) {
            value |= Integer.toUnsignedLong(words[word + stride]) << (Integer.SIZE - shift);
        }
        return (int) value & ((1 << bits) - 1);
    }

    /** The smallest count of {@code bits}-bit values that fills whole 32-bit words. */
    static int valuesPerWholeWords(int bits) {
        return Integer.SIZE / gcd(Integer.SIZE, bits);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Every code and zero point fits {@code m.bits()}, and every column's group exists. */
    static void checkRanges(QuantizedMatrix m, String name) {
        int max = m.maxCode();
        for (int r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                if (m.code(r, c) > max) {
                    throw new QtaleException(name + " has the code " + m.code(r, c) + " at row " + r + ", column " + c
                            + ", which does not fit " + m.bits() + " bits.");
                }
            }
            for (int g = 0; g < m.groups(); g++) {
                if (m.zero(r, g) > max) {
                    throw new QtaleException(name + " has the zero point " + m.zero(r, g) + " at row " + r + ", group "
                            + g + ", which does not fit " + m.bits() + " bits.");
                }
            }
        }
        for (int c = 0; c < m.cols(); c++) {
            if (m.group(c) < 0 || m.group(c) >= m.groups()) {
                throw new QtaleException(name + "'s group index puts column " + c + " in group " + m.group(c)
                        + ", but it has " + m.groups() + " groups.");
            }
        }
    }

    /** Whether {@code m}'s columns are grouped in order, {@code c / groupSize}. */
    static boolean groupsInOrder(QuantizedMatrix m) {
        return isInOrder(m.groupIndex(), m.groupSize());
    }

    static boolean isInOrder(int[] groupIndex, int groupSize) {
        if (groupIndex == null) {
            return true;
        }
        for (int c = 0; c < groupIndex.length; c++) {
            if (groupIndex[c] != c / groupSize) {
                return false;
            }
        }
        return true;
    }

    /** The group size a layer of {@code inputs} columns has under {@code quantization_config}'s value. */
    static int groupSize(int configured, int inputs, String name) {
        int g = configured == -1 ? inputs : configured;
        if (g < 1 || inputs % g != 0) {
            throw new QtaleException("The group size " + configured + " does not divide the " + inputs + " inputs of "
                    + name + ".");
        }
        return g;
    }

    /** Checks a tensor's shape; {@code layer} describes the layer the expected shape follows from. */
    static void expectShape(String tensor, int[] actual, String layer, int... expected) {
        if (!Arrays.equals(actual, expected)) {
            throw new QtaleException(tensor + " has shape " + Arrays.toString(actual) + ", but " + layer + " needs "
                    + Arrays.toString(expected) + ".");
        }
    }

    /** {@code scales} of shape {@code [groups][N]} as the {@code [N][groups]} of a {@link QuantizedMatrix}. */
    static float[] transposeScales(FloatMatrix scales) {
        float[] out = new float[scales.values().length];
        for (int g = 0; g < scales.rows(); g++) {
            for (int n = 0; n < scales.cols(); n++) {
                out[n * scales.rows() + g] = scales.get(g, n);
            }
        }
        return out;
    }

    /** The matrix's group index as a checkpoint stores it: one group per input channel. */
    static int[] groupOfEachColumn(QuantizedMatrix m) {
        int[] out = new int[m.cols()];
        Arrays.setAll(out, m::group);
        return out;
    }

    /** A checked {@code g_idx}: null when absent or in order, else a copy whose entries name existing groups. */
    static int[] readGroupIndex(int[] gIdx, int groupSize, int groups, String tensor) {
        if (gIdx == null || isInOrder(gIdx, groupSize)) {
            return null;
        }
        for (int c = 0; c < gIdx.length; c++) {
            if (gIdx[c] < 0 || gIdx[c] >= groups) {
                throw new QtaleException(tensor + " puts input " + c + " in group " + gIdx[c] + ", but the layer has "
                        + groups + " groups.");
            }
        }
        return gIdx.clone();
    }

    /** Zeroed words of {@code shape}, {@code [rows, cols]}. */
    static IntMatrix words(int[] shape) {
        return new IntMatrix(shape[0], shape[1], new int[Math.multiplyExact(shape[0], shape[1])]);
    }
}
