package org.qtale.quant.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.qtale.QtaleException;
import org.qtale.quant.QuantizedMatrix;

/** Grids and codes of both reference rules against values computed by hand (scales chosen exact in binary). */
class RtnTest {
    private static int[] codes(QuantGrid grid, float... values) {
        int[] codes = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            codes[i] = grid.code(values[i]);
        }
        return codes;
    }

    @Test
    void gptqAsymmetricRoundsHalfToEven() {
        // min −1, max 2.75: scale 3.75/15 = 0.25, zero rint(1/0.25) = 4; 0.625/0.25 = 2.5 → 2, 0.875/0.25 = 3.5 → 4
        QuantGrid grid = GptqGrid.asymmetric(4).fit(-1f, 2.75f);
        assertEquals(new QuantGrid(0.25f, 4, 15), grid);
        assertArrayEquals(new int[] {0, 6, 8, 15, 4}, codes(grid, -1f, 0.625f, 0.875f, 2.75f, 0f));
        assertEquals(0.5f, grid.roundTrip(0.625f));
        assertEquals(1.0f, grid.roundTrip(0.875f));
    }

    @Test
    void gptqForcesTheRangeThroughZero() {
        // all positive: xmin becomes 0, so scale = 3.75/15 and zero = 0; nothing is clipped
        QuantGrid grid = GptqGrid.asymmetric(4).fit(0.5f, 3.75f);
        assertEquals(new QuantGrid(0.25f, 0, 15), grid);
        assertArrayEquals(new int[] {2, 4, 6, 15}, codes(grid, 0.5f, 1f, 1.5f, 3.75f));
        // all negative: xmax becomes 0, zero = rint(3.75/0.25) = 15
        assertEquals(new QuantGrid(0.25f, 15, 15), GptqGrid.asymmetric(4).fit(-3.75f, -0.5f));
    }

    @Test
    void gptqSymmetricClipsTheTopAndAllPositiveGroups() {
        // absmax 3.75: grid [−8s, 7s] with s = 7.5/15 = 0.5, so 3.75 is clipped to 3.5 and −3.75 → rint(−7.5) = −8
        QuantGrid grid = GptqGrid.symmetric(4).fit(-3.75f, 3.75f);
        assertEquals(new QuantGrid(0.5f, 8, 15), grid);
        assertArrayEquals(new int[] {0, 10, 15, 8}, codes(grid, -3.75f, 1f, 3.75f, 0f));
        assertEquals(3.5f, grid.roundTrip(3.75f));
        assertEquals(-4f, grid.roundTrip(-3.75f));
        // no negative value: xmin stays 0, s = 3.75/15 = 0.25 with zero 8, so everything above 7·0.25 = 1.75 clips
        QuantGrid positive = GptqGrid.symmetric(4).fit(0.5f, 3.75f);
        assertEquals(new QuantGrid(0.25f, 8, 15), positive);
        assertArrayEquals(new int[] {10, 12, 15, 15}, codes(positive, 0.5f, 1f, 2f, 3.75f));
        assertEquals(1.75f, positive.roundTrip(3.75f));
    }

    @Test
    void gptqAllZeroGroupUsesMinusOneToOne() {
        // xmin = −1, xmax = 1: scale = fl(2/15); −xmin/scale = 1/0.13333334f = 7.4999995f in fp32, so zero = 7
        QuantGrid grid = GptqGrid.asymmetric(4).fit(0f, 0f);
        assertEquals(2f / 15, grid.scale());
        assertEquals(7, grid.zero());
        assertEquals(0f, grid.roundTrip(0f));
        QuantGrid symmetric = GptqGrid.symmetric(3).fit(0f, 0f);
        assertEquals(new QuantGrid(2f / 7, 4, 7), symmetric);
        assertEquals(0f, symmetric.roundTrip(0f));
    }

    @Test
    void gptqBetaShrinksTheStepAnchoredAtTheMinimum() {
        // 3 bits, β = 0.9, range [−1, 6]: scale = 0.9·7/7 = 0.9, zero rint(1/0.9) = 1, so the grid is [−0.9, 5.4]
        QuantGrid grid = new GptqGrid(3, false, 0.9f).fit(-1f, 6f);
        assertEquals(0.9f, grid.scale(), 1e-7f);
        assertEquals(1, grid.zero());
        assertEquals(5.4f, grid.roundTrip(6f), 1e-6f);
        assertEquals(-0.9f, grid.roundTrip(-1f), 1e-6f);
        // no positive value: rint(7/0.9) = 8 exceeds maxq; the canonical format clamps the zero point to 7
        assertEquals(7, new GptqGrid(3, false, 0.9f).fit(-7f, -1f).zero());
    }

    @Test
    void awqAsymmetricDoesNotForceZeroAndClipsAllPositiveGroups() {
        QuantGrid grid = new AwqGrid(4, true).fit(-1f, 2.75f);
        assertEquals(new QuantGrid(0.25f, 4, 15), grid);
        // all positive [0.5, 4.25]: scale 3.75/15 = 0.25, zero −rint(2) clamps to 0, so 4.25 clips to 3.75
        QuantGrid positive = new AwqGrid(4, true).fit(0.5f, 4.25f);
        assertEquals(new QuantGrid(0.25f, 0, 15), positive);
        assertArrayEquals(new int[] {2, 4, 6, 15}, codes(positive, 0.5f, 1f, 1.5f, 4.25f));
        assertEquals(3.75f, positive.roundTrip(4.25f));
        // all zero: the range is clamped to 1e-5, every code is 0 and dequantizes to 0
        QuantGrid zero = new AwqGrid(4, true).fit(0f, 0f);
        assertEquals(new QuantGrid(1e-5f / 15, 0, 15), zero);
        assertEquals(0f, zero.roundTrip(0f));
    }

    @Test
    void awqSymmetricUsesSignedCodesShifted() {
        // absmax 3.5 over 2^3 − 1 = 7: scale 0.5; signed q in [−8, 7] stored as q + 8
        QuantGrid grid = new AwqGrid(4, false).fit(-3.5f, 1f);
        assertEquals(new QuantGrid(0.5f, 8, 15), grid);
        assertArrayEquals(new int[] {1, 10, 8, 15}, codes(grid, -3.5f, 1f, 0.25f, 3.5f));
        assertEquals(-3.5f, grid.roundTrip(-3.5f));
        assertEquals(new QuantGrid(1f, 2, 3), new AwqGrid(2, false).fit(-1f, 0.5f));
    }

    @Test
    void rtnQuantizesEveryGroupOfEveryRow() {
        float[][] w = {
            {-1f, 0.625f, 0.5f, 3.75f},
            {0f, 0f, -3.75f, -0.5f},
        };
        QuantizedMatrix m = Rtn.quantize(w, GptqGrid.asymmetric(4), 2);
        assertEquals(2, m.groups());
        assertNull(m.groupIndex());
        // row 0 group 0: [−1, 0.625] → scale 1.625/15; group 1: [0.5, 3.75] → through 0, scale 0.25, zero 0
        assertEquals(1.625f / 15, m.scale(0, 0));
        assertEquals(0.25f, m.scale(0, 1));
        assertEquals(0, m.zero(0, 1));
        assertEquals(2, m.code(0, 2));
        assertEquals(15, m.code(0, 3));
        // row 1 group 0 is all zero; group 1 all negative with zero 15
        assertEquals(7, m.zero(1, 0));
        assertEquals(0f, m.dequantize(1, 0));
        assertEquals(15, m.zero(1, 1));
        assertEquals(-3.75f, m.dequantize(1, 2));
        assertEquals(-0.5f, m.dequantize(1, 3));
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 4; c++) {
                QuantGrid grid = Weights.grid(m, r, c / 2);
                assertEquals(grid.roundTrip(w[r][c]), m.dequantize(r, c));
            }
        }
    }

    @Test
    void rtnPerChannelHasOneGroupPerRow() {
        float[][] w = SyntheticLayer.gaussian(3, 16, 1, 7);
        QuantizedMatrix perChannel = Rtn.quantize(w, new AwqGrid(3, true), Weights.PER_CHANNEL);
        assertEquals(16, perChannel.groupSize());
        assertEquals(1, perChannel.groups());
        QuantizedMatrix sameAsFullGroup = Rtn.quantize(w, new AwqGrid(3, true), 16);
        assertArrayEquals(perChannel.codes(), sameAsFullGroup.codes());
        assertArrayEquals(perChannel.scales(), sameAsFullGroup.scales());
    }

    @Test
    void rejectsGroupsThatDoNotDivideTheColumns() {
        float[][] w = new float[2][10];
        assertThrows(QtaleException.class, () -> Rtn.quantize(w, GptqGrid.asymmetric(4), 4));
        assertThrows(QtaleException.class, () -> new GptqGrid(9, false, 1f));
        assertThrows(QtaleException.class, () -> new GptqGrid(4, false, 0f));
    }
}
