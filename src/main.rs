fn main() {
    lakegate::cmd::cli::main()
}
