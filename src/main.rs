fn main() {
    lakegate::cli::main()
}
