"""The battery view's figures and words, without Qt: state words, the projection of a
daily schedule, the cost of a program compared with another, and plot data export."""
