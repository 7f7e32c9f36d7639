//! Reading and writing profiles in every format whyslow speaks, and the
//! pictures made from them.
